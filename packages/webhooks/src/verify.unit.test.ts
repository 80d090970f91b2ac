import { Webhook } from 'standardwebhooks';
import { generateEd25519KeyPair, generateSecret, isSecret, secretKeyBytes } from './secret';
import { retenSignature, signWebhook } from './sign';
import { WebhookVerificationError, verifyWebhook } from './verify';

const body = '{"event_id":"evt_1","event_type":"order.created","data":{"a":1}}';
const at = new Date('2026-01-01T00:00:00Z');
const now = () => new Date('2026-01-01T00:01:00Z');

describe('webhook secrets', () => {
  it('are whsec_ + base64 of 32 random bytes, all different', () => {
    const a = generateSecret();
    expect(isSecret(a)).toBe(true);
    expect(secretKeyBytes(a)).toHaveLength(32);
    expect(generateSecret()).not.toBe(a);
  });

  it('rejects strings that are not whsec_ + base64 of 24 to 64 bytes', () => {
    expect(isSecret('whsec_' + Buffer.alloc(8).toString('base64'))).toBe(false);
    expect(isSecret('secret')).toBe(false);
    expect(isSecret('whsec_!!!')).toBe(false);
  });
});

describe('signWebhook and verifyWebhook', () => {
  const secret = generateSecret();
  const headers = signWebhook({ msgId: 'dlv_1', timestamp: at, body, secrets: [secret] });

  it('signs X-Reten-Signature with the whole whsec_ string as the HMAC key', () => {
    expect(headers['x-reten-signature']).toBe(retenSignature(body, secret));
    expect(headers['x-reten-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
  });

  it('produces Standard Webhooks headers the standardwebhooks library signs identically', () => {
    expect(headers['webhook-id']).toBe('dlv_1');
    expect(headers['webhook-timestamp']).toBe(String(at.getTime() / 1000));
    expect(headers['webhook-signature']).toBe(new Webhook(secret).sign('dlv_1', at, body));
  });

  it('signs like the standardwebhooks library for any secret and body, each key decoded once', () => {
    const unicode = '{"data":{"name":"Zoë — 東京 🚀","n":"\\u0000"}}';
    const secrets = [generateSecret(), generateSecret(), generateSecret()];
    for (let i = 0; i < 3; i++) {
      for (const s of secrets) {
        const t = new Date(at.getTime() + i * 1500);
        const h = signWebhook({ msgId: `dlv_${i}`, timestamp: t, body: unicode, secrets: [s] });
        expect(h['webhook-signature']).toBe(new Webhook(s).sign(`dlv_${i}`, t, unicode));
      }
    }
    const both = signWebhook({ msgId: 'dlv_9', timestamp: at, body, secrets });
    expect(both['webhook-signature']).toBe(
      secrets.map((s) => new Webhook(s).sign('dlv_9', at, body)).join(' '),
    );
  });

  it('returns the parsed body for a valid request', () => {
    expect(verifyWebhook(body, headers, secret, { now })).toEqual(JSON.parse(body));
    expect(verifyWebhook(Buffer.from(body), new Headers(headers), secret, { now })).toEqual(
      JSON.parse(body),
    );
  });

  it('rejects a tampered body, a wrong secret and a missing signature', () => {
    expect(() => verifyWebhook(body + ' ', headers, secret, { now })).toThrow(
      WebhookVerificationError,
    );
    expect(() => verifyWebhook(body, headers, generateSecret(), { now })).toThrow(
      /no matching signature/,
    );
    const { 'webhook-signature': _a, 'x-reten-signature': _b, ...none } = headers;
    expect(() => verifyWebhook(body, none, secret, { now })).toThrow(/no signature header/);
  });

  it('rejects a timestamp outside the tolerance (replay protection)', () => {
    const late = () => new Date(at.getTime() + 301_000);
    expect(() => verifyWebhook(body, headers, secret, { now: late })).toThrow(/too old/);
    expect(
      verifyWebhook(body, headers, secret, { now: late, toleranceSeconds: 600 }),
    ).toBeDefined();
    const early = () => new Date(at.getTime() - 301_000);
    expect(() => verifyWebhook(body, headers, secret, { now: early })).toThrow(/too new/);
    const { 'webhook-timestamp': _t, ...noTime } = headers;
    expect(() => verifyWebhook(body, noTime, secret, { now })).toThrow(/timestamp/);
  });

  it('accepts either signature of a rotation, each with its own secret', () => {
    const old = generateSecret();
    const both = signWebhook({ msgId: 'dlv_2', timestamp: at, body, secrets: [secret, old] });
    expect(both['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(verifyWebhook(body, both, secret, { now })).toBeDefined();
    expect(verifyWebhook(body, both, old, { now })).toBeDefined();
    const { 'webhook-signature': _s, ...retenOnly } = both;
    expect(verifyWebhook(body, retenOnly, old, { now })).toBeDefined();
  });

  it('verifies ed25519 v1a signatures with the public key and refuses another key', () => {
    const keys = generateEd25519KeyPair();
    expect(keys.publicKey).toMatch(/^whpk_/);
    const signed = signWebhook({
      msgId: 'dlv_3',
      timestamp: at,
      body,
      secrets: [],
      ed25519PrivateKey: keys.privateKey,
    });
    expect(signed['webhook-signature']).toMatch(/^v1a,/);
    expect(signed['x-reten-signature']).toBeUndefined();
    expect(verifyWebhook(body, signed, keys.publicKey, { now })).toEqual(JSON.parse(body));
    expect(() => verifyWebhook(body, signed, generateEd25519KeyPair().publicKey, { now })).toThrow(
      /no matching signature/,
    );
  });
});
