import { createHmac, generateKeyPairSync } from 'node:crypto';
import { authFailureReason } from './auth-failure';
import { CLOCK_SKEW_SECONDS, TokenCodec } from './jwt';
import type { JwtOptions } from './jwt';

const SECRET = 'unit-test-secret-0123456789abcdef';
const OPTIONS: JwtOptions = {
  algorithm: 'HS256',
  secret: SECRET,
  issuer: 'reten',
  audience: 'reten-api',
  ttlSeconds: 900,
};
const CLAIMS = { keyId: 'ak_0123456789abcdef', tenantId: 'acme', scopes: ['admin' as const] };

/**
 * A token signed with the right secret but exactly the claims chosen by the test, as a forger
 * holding the secret would make it (jsonwebtoken's sign would add or check some claims).
 */
function handMade(payload: Record<string, unknown>, secret = SECRET): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signed = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(payload)}`;
  return `${signed}.${createHmac('sha256', secret).update(signed).digest('base64url')}`;
}

function reasonOf(codec: TokenCodec, token: string): string | undefined {
  try {
    codec.verify(token);
    return undefined;
  } catch (err) {
    return authFailureReason(err) ?? String(err);
  }
}

const now = () => Math.floor(Date.now() / 1000);
const full = () => ({
  sub: CLAIMS.keyId,
  tenant: CLAIMS.tenantId,
  scopes: CLAIMS.scopes,
  iss: 'reten',
  aud: 'reten-api',
  iat: now(),
  exp: now() + 60,
});

describe('TokenCodec claims', () => {
  const codec = new TokenCodec(OPTIONS);

  it('accepts its own tokens and a hand-made token with every required claim', () => {
    expect(codec.verify(codec.sign(CLAIMS))).toEqual(CLAIMS);
    expect(codec.verify(handMade(full()))).toEqual(CLAIMS);
  });

  it.each([
    ['exp', 'a token that never expires'],
    ['iat', 'a token without an issue time'],
    ['iss', 'a token without an issuer'],
    ['aud', 'a token without an audience'],
  ])('refuses a token without %s (%s)', (claim) => {
    const payload: Record<string, unknown> = full();
    delete payload[claim];
    expect(reasonOf(codec, handMade(payload))).toBe('invalid_token');
  });

  it('refuses a lifetime (exp - iat) longer than ttlSeconds, and accepts exactly ttlSeconds', () => {
    const iat = now();
    expect(reasonOf(codec, handMade({ ...full(), iat, exp: iat + 901 }))).toBe('invalid_token');
    expect(reasonOf(codec, handMade({ ...full(), iat, exp: iat + 365 * 86_400 }))).toBe(
      'invalid_token',
    );
    expect(reasonOf(codec, handMade({ ...full(), iat, exp: iat + 900 }))).toBeUndefined();
  });

  it('refuses a token issued in the future beyond the clock skew, or with exp not after iat', () => {
    const later = now() + CLOCK_SKEW_SECONDS + 5;
    expect(reasonOf(codec, handMade({ ...full(), iat: later, exp: later + 60 }))).toBe(
      'invalid_token',
    );
    const soon = now() + 5;
    expect(reasonOf(codec, handMade({ ...full(), iat: soon, exp: soon + 60 }))).toBeUndefined();
    expect(reasonOf(codec, handMade({ ...full(), exp: now() - 10 }))).toBe('expired');
    const iat = now();
    expect(reasonOf(codec, handMade({ ...full(), iat, exp: iat }))).toBe('expired');
  });

  it('refuses non-integer or string exp and iat', () => {
    expect(reasonOf(codec, handMade({ ...full(), iat: `${now()}` }))).toBe('invalid_token');
    expect(reasonOf(codec, handMade({ ...full(), iat: now() + 0.5 }))).toBe('invalid_token');
    expect(reasonOf(codec, handMade({ ...full(), exp: `${now() + 60}` }))).toBe('invalid_token');
  });

  it('refuses another issuer or audience', () => {
    expect(reasonOf(codec, handMade({ ...full(), iss: 'someone-else' }))).toBe('invalid_token');
    expect(reasonOf(codec, handMade({ ...full(), aud: 'other-api' }))).toBe('invalid_token');
    expect(
      reasonOf(codec, handMade({ ...full(), aud: ['other-api', 'reten-api'] })),
    ).toBeUndefined();
  });
});

describe('TokenCodec key rotation', () => {
  it('HS256: signs with the current secret and also accepts the previous one', () => {
    const old = new TokenCodec({ ...OPTIONS, secret: 'the-old-secret-0123456789' });
    const rotating = new TokenCodec({ ...OPTIONS, previousSecret: 'the-old-secret-0123456789' });
    const after = new TokenCodec(OPTIONS);
    const oldToken = old.sign(CLAIMS);
    expect(rotating.verify(oldToken)).toEqual(CLAIMS);
    expect(reasonOf(after, oldToken)).toBe('bad_signature');
    const newToken = rotating.sign(CLAIMS);
    expect(after.verify(newToken)).toEqual(CLAIMS);
    expect(reasonOf(old, newToken)).toBe('bad_signature');
  });

  it('HS256: a token of the previous secret still needs valid claims', () => {
    const rotating = new TokenCodec({ ...OPTIONS, previousSecret: 'the-old-secret-0123456789' });
    const payload: Record<string, unknown> = full();
    delete payload.exp;
    expect(reasonOf(rotating, handMade(payload, 'the-old-secret-0123456789'))).toBe(
      'invalid_token',
    );
  });

  it('RS256: signs with the private key and accepts the current or the previous public key', () => {
    const pem = () =>
      generateKeyPairSync('rsa', {
        modulusLength: 2048,
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      });
    const [oldPair, newPair] = [pem(), pem()];
    const rs = { issuer: 'reten', audience: 'reten-api', ttlSeconds: 900 } as const;
    const oldSigner = new TokenCodec({ ...rs, algorithm: 'RS256', ...oldPair });
    const verifier = new TokenCodec({
      ...rs,
      algorithm: 'RS256',
      publicKey: newPair.publicKey,
      previousPublicKey: oldPair.publicKey,
    });
    const newOnly = new TokenCodec({ ...rs, algorithm: 'RS256', publicKey: newPair.publicKey });
    const oldToken = oldSigner.sign(CLAIMS);
    expect(verifier.verify(oldToken)).toEqual(CLAIMS);
    expect(reasonOf(newOnly, oldToken)).toBe('bad_signature');
    const newSigner = new TokenCodec({ ...rs, algorithm: 'RS256', ...newPair });
    expect(verifier.verify(newSigner.sign(CLAIMS))).toEqual(CLAIMS);
  });
});
