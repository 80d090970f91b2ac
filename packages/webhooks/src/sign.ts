import { createHmac, createPrivateKey, createSecretKey, sign as edSign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { PRIVATE_KEY_PREFIX, SECRET_PREFIX } from './secret';

/** Header names of a Reten webhook request. */
export const WEBHOOK_HEADERS = {
  retenSignature: 'x-reten-signature',
  eventId: 'x-reten-event-id',
  eventType: 'x-reten-event-type',
  id: 'webhook-id',
  timestamp: 'webhook-timestamp',
  signature: 'webhook-signature',
} as const;

export interface SignInput {
  /** `webhook-id`: the same on every attempt of one event revision to one endpoint. */
  msgId: string;
  /** When this attempt is sent (`webhook-timestamp`, whole seconds). */
  timestamp: Date;
  /** The exact bytes sent as the body. */
  body: string;
  /**
   * Shared secrets (`whsec_…`) that sign: the current one first, then the previous one while
   * a rotation's grace period lasts. Empty for an ed25519 endpoint.
   */
  secrets: string[];
  /** `whsk_…` private key: adds a `v1a` ed25519 signature. */
  ed25519PrivateKey?: string | undefined;
}

/**
 * Keys decoded once per secret: every attempt signs, and decoding a key (base64, or parsing a
 * DER private key) costs more than the HMAC of a small body. Bounded: emptied when it is full.
 */
const KEY_CACHE_MAX = 10_000;
const hmacKeys = new Map<string, Buffer>();
const privateKeys = new Map<string, KeyObject>();
const retenKeys = new Map<string, KeyObject>();

function cached<K>(cache: Map<string, K>, secret: string, make: () => K): K {
  let key = cache.get(secret);
  if (key === undefined) {
    if (cache.size >= KEY_CACHE_MAX) cache.clear();
    key = make();
    cache.set(secret, key);
  }
  return key;
}

/**
 * `v1,<base64>`: the Standard Webhooks signature, HMAC-SHA256 over `<msgId>.<timestamp>.<body>`
 * keyed with the base64-decoded secret (`whsec_` prefix removed), as the `standardwebhooks`
 * package computes it, with node:crypto instead of its JavaScript SHA-256.
 */
export function standardSignature(
  msgId: string,
  timestamp: Date,
  body: string,
  secret: string,
): string {
  const key = cached(hmacKeys, secret, () => {
    const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
    const decoded = Buffer.from(encoded, 'base64');
    if (decoded.length === 0) throw new Error("Secret can't be empty.");
    return decoded;
  });
  const seconds = Math.floor(timestamp.getTime() / 1000);
  // the signed content in two updates: the body (the large part) is not copied into a new string
  const hmac = createHmac('sha256', key).update(`${msgId}.${seconds}.`).update(body);
  return `v1,${hmac.digest('base64')}`;
}

/** `sha256=<hex>` of the raw body, keyed with the secret string exactly as shown (`whsec_…` included). */
export function retenSignature(body: string, secret: string): string {
  const key = cached(retenKeys, secret, () => createSecretKey(Buffer.from(secret, 'utf8')));
  return `sha256=${createHmac('sha256', key).update(body).digest('hex')}`;
}

/** `v1a,<base64>`: ed25519 over `<msgId>.<timestamp>.<body>` (Standard Webhooks asymmetric). */
export function ed25519Signature(
  msgId: string,
  timestamp: Date,
  body: string,
  privateKey: string,
): string {
  const key = cached(privateKeys, privateKey, () =>
    createPrivateKey({
      key: Buffer.from(privateKey.slice(PRIVATE_KEY_PREFIX.length), 'base64'),
      format: 'der',
      type: 'pkcs8',
    }),
  );
  const seconds = Math.floor(timestamp.getTime() / 1000);
  const signature = edSign(null, Buffer.from(`${msgId}.${seconds}.${body}`), key);
  return `v1a,${signature.toString('base64')}`;
}

/**
 * The signature headers of one attempt: `X-Reten-Signature` (one `sha256=` per secret,
 * comma-separated during a rotation) and the Standard Webhooks trio, whose
 * `webhook-signature` lists every `v1` (and `v1a`) signature separated by spaces.
 */
export function signWebhook(input: SignInput): Record<string, string> {
  const signatures: string[] = input.secrets.map((s) =>
    standardSignature(input.msgId, input.timestamp, input.body, s),
  );
  if (input.ed25519PrivateKey) {
    signatures.push(
      ed25519Signature(input.msgId, input.timestamp, input.body, input.ed25519PrivateKey),
    );
  }
  const headers: Record<string, string> = {
    [WEBHOOK_HEADERS.id]: input.msgId,
    [WEBHOOK_HEADERS.timestamp]: String(Math.floor(input.timestamp.getTime() / 1000)),
    [WEBHOOK_HEADERS.signature]: signatures.join(' '),
  };
  if (input.secrets.length > 0) {
    headers[WEBHOOK_HEADERS.retenSignature] = input.secrets
      .map((s) => retenSignature(input.body, s))
      .join(',');
  }
  return headers;
}
