import { createPrivateKey, createPublicKey, createSecretKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import { ScopeSchema } from '@reten/contracts';
import type { Scope } from '@reten/contracts';
import { AuthFailure } from './auth-failure';

/**
 * How tokens are signed and checked. HS256 uses `secret`; RS256 the PEM keys. The `previous`
 * secret or public key is also accepted when verifying, never used to sign: it lets a key be
 * rotated without refusing the tokens already issued.
 */
export type JwtOptions = {
  issuer: string;
  audience: string;
  /** Lifetime of an issued token, and the longest `exp` − `iat` a verified token may have. */
  ttlSeconds: number;
} & (
  | { algorithm: 'HS256'; secret: string; previousSecret?: string }
  | { algorithm: 'RS256'; privateKey?: string; publicKey: string; previousPublicKey?: string }
);

/**
 * How far in the future an `iat` may be: replicas' clocks differ a little, and a token issued
 * by one is used at once on another.
 */
export const CLOCK_SKEW_SECONDS = 60;

const NumericDate = z.number().int().nonnegative();

// iss and aud are checked by jsonwebtoken (a token without them fails there)
const ClaimsSchema = z.object({
  sub: z.string().min(1),
  tenant: z.string().min(1),
  scopes: z.array(ScopeSchema),
  iat: NumericDate,
  exp: NumericDate,
});

/** What a valid token says. */
export interface TokenClaims {
  keyId: string;
  tenantId: string;
  scopes: Scope[];
}

/** Signs and verifies Reten access tokens (`sub` = API key id, `tenant`, `scopes`). */
export class TokenCodec {
  // KeyObjects made once: given a string, jsonwebtoken tries (and fails) to parse it as a PEM
  // key on every call, which costs ~50x the HMAC itself
  private readonly signingKey: KeyObject | undefined;
  /** The current key first: the previous one is tried only when the current one fails. */
  private readonly verifyingKeys: KeyObject[];

  constructor(private readonly options: JwtOptions) {
    if (options.algorithm === 'HS256') {
      this.signingKey = createSecretKey(Buffer.from(options.secret, 'utf8'));
      this.verifyingKeys = [this.signingKey];
      if (options.previousSecret) {
        this.verifyingKeys.push(createSecretKey(Buffer.from(options.previousSecret, 'utf8')));
      }
    } else {
      this.signingKey = options.privateKey ? createPrivateKey(options.privateKey) : undefined;
      this.verifyingKeys = [createPublicKey(options.publicKey)];
      if (options.previousPublicKey) {
        this.verifyingKeys.push(createPublicKey(options.previousPublicKey));
      }
    }
  }

  get ttlSeconds(): number {
    return this.options.ttlSeconds;
  }

  /** A signed token for the key, valid for `ttlSeconds`. */
  sign(claims: TokenClaims): string {
    const o = this.options;
    const key = this.signingKey;
    if (key === undefined) throw new Error('JWT signing needs a private key (RS256)');
    return jwt.sign({ tenant: claims.tenantId, scopes: claims.scopes }, key, {
      algorithm: o.algorithm,
      subject: claims.keyId,
      issuer: o.issuer,
      audience: o.audience,
      expiresIn: o.ttlSeconds,
    });
  }

  /**
   * The claims of a valid token; throws AuthFailure saying what is wrong otherwise. Valid
   * means: signed with the configured algorithm by the current (or previous) key, `iss` and
   * `aud` as configured, `exp` and `iat` present, not expired, not issued in the future, and
   * a lifetime (`exp` − `iat`) of at most `ttlSeconds`, so a leaked signing key cannot mint
   * tokens that outlive its rotation.
   */
  verify(token: string): TokenClaims {
    const payload = this.verifiedPayload(token);
    const parsed = ClaimsSchema.safeParse(payload);
    if (!parsed.success) throw new AuthFailure('invalid_token');
    const { iat, exp } = parsed.data;
    const now = Math.floor(Date.now() / 1000);
    if (iat > now + CLOCK_SKEW_SECONDS) throw new AuthFailure('invalid_token');
    if (exp <= iat || exp - iat > this.options.ttlSeconds) throw new AuthFailure('invalid_token');
    return { keyId: parsed.data.sub, tenantId: parsed.data.tenant, scopes: parsed.data.scopes };
  }

  private verifiedPayload(token: string): unknown {
    const o = this.options;
    let failure: AuthFailure = new AuthFailure('invalid_token');
    for (const key of this.verifyingKeys) {
      try {
        return jwt.verify(token, key, {
          algorithms: [o.algorithm],
          issuer: o.issuer,
          audience: o.audience,
        });
      } catch (err) {
        failure = failureOf(err);
        // only another key can fix a bad signature
        if (failure.reason !== 'bad_signature') throw failure;
      }
    }
    throw failure;
  }
}

function failureOf(err: unknown): AuthFailure {
  if (err instanceof jwt.TokenExpiredError) return new AuthFailure('expired');
  if (err instanceof jwt.JsonWebTokenError) {
    if (err.message === 'invalid signature') return new AuthFailure('bad_signature');
    if (err.message === 'jwt malformed') return new AuthFailure('malformed');
  }
  return new AuthFailure('invalid_token');
}
