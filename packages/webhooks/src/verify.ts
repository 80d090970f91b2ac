import { createPublicKey, timingSafeEqual, verify as edVerify } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { PUBLIC_KEY_PREFIX } from './secret';
import { WEBHOOK_HEADERS, retenSignature } from './sign';

/** Why a webhook request was refused by `verifyWebhook`. */
export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}

export interface VerifyOptions {
  /** Oldest (and furthest in the future) `webhook-timestamp` accepted; default 300 s. */
  toleranceSeconds?: number;
  /** Clock for tests. */
  now?: () => Date;
}

export type HeaderBag = Record<string, string | string[] | undefined> | Headers;

function header(headers: HeaderBag, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') {
    return (headers as Headers).get(name) ?? undefined;
  }
  const bag = headers as Record<string, string | string[] | undefined>;
  for (const key of Object.keys(bag)) {
    if (key.toLowerCase() === name) {
      const v = bag[key];
      return Array.isArray(v) ? v[0] : v;
    }
  }
  return undefined;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function checkTimestamp(raw: string | undefined, options: VerifyOptions): Date {
  if (raw === undefined || !/^\d{1,12}$/.test(raw)) {
    throw new WebhookVerificationError('missing or invalid webhook-timestamp header');
  }
  const seconds = Number(raw);
  const now = Math.floor((options.now?.() ?? new Date()).getTime() / 1000);
  const tolerance = options.toleranceSeconds ?? 300;
  if (now - seconds > tolerance) throw new WebhookVerificationError('timestamp too old');
  if (seconds - now > tolerance) throw new WebhookVerificationError('timestamp too new');
  return new Date(seconds * 1000);
}

function verifyEd25519(msgId: string, ts: Date, body: string, sigs: string[], publicKey: string) {
  const x = Buffer.from(publicKey.slice(PUBLIC_KEY_PREFIX.length), 'base64').toString('base64url');
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
  const signed = Buffer.from(`${msgId}.${Math.floor(ts.getTime() / 1000)}.${body}`);
  return sigs.some((s) => edVerify(null, signed, key, Buffer.from(s, 'base64')));
}

/**
 * Verifies a Reten webhook request and returns the parsed envelope. With a `whsec_…` secret
 * it checks the Standard Webhooks `v1` signature (computed by the `standardwebhooks`
 * library) or, when only that header is present, `X-Reten-Signature`; with a `whpk_…` public
 * key the `v1a` ed25519 signature. Comparisons are constant-time; a `webhook-timestamp`
 * outside the tolerance is refused (replay protection), so it is required in every case.
 * Pass the raw body exactly as received.
 */
export function verifyWebhook(
  rawBody: string | Buffer,
  headers: HeaderBag,
  secret: string,
  options: VerifyOptions = {},
): unknown {
  const body = typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8');
  const timestamp = checkTimestamp(header(headers, WEBHOOK_HEADERS.timestamp), options);
  const msgId = header(headers, WEBHOOK_HEADERS.id);
  const signatureHeader = header(headers, WEBHOOK_HEADERS.signature);
  let ok = false;
  if (signatureHeader !== undefined && msgId !== undefined) {
    const entries = signatureHeader.split(' ').map((e) => e.split(','));
    if (secret.startsWith(PUBLIC_KEY_PREFIX)) {
      const sigs = entries.filter(([v]) => v === 'v1a').map(([, s]) => s ?? '');
      ok = verifyEd25519(msgId, timestamp, body, sigs, secret);
    } else {
      const expected = new Webhook(secret).sign(msgId, timestamp, body).split(',')[1] ?? '';
      ok = entries.some(([v, s]) => v === 'v1' && s !== undefined && safeEqual(s, expected));
    }
  } else {
    const reten = header(headers, WEBHOOK_HEADERS.retenSignature);
    if (reten === undefined) throw new WebhookVerificationError('no signature header');
    const expected = retenSignature(body, secret);
    ok = reten.split(',').some((s) => safeEqual(s.trim(), expected));
  }
  if (!ok) throw new WebhookVerificationError('no matching signature');
  try {
    return body === '' ? undefined : (JSON.parse(body) as unknown);
  } catch {
    throw new WebhookVerificationError('body is not JSON');
  }
}
