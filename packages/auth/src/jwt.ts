import { createPrivateKey, createPublicKey, createSecretKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import { ScopeSchema } from '@reten/contracts';
import type { Scope } from '@reten/contracts';
import { AuthFailure } from './auth-failure';

/** How tokens are signed and checked. HS256 uses `secret`; RS256 the PEM keys. */
export type JwtOptions = {
  issuer: string;
  audience: string;
  ttlSeconds: number;
} & (
  | { algorithm: 'HS256'; secret: string }
  | { algorithm: 'RS256'; privateKey?: string; publicKey: string }
);

const ClaimsSchema = z.object({
  sub: z.string().min(1),
  tenant: z.string().min(1),
  scopes: z.array(ScopeSchema),
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
  private readonly verifyingKey: KeyObject;

  constructor(private readonly options: JwtOptions) {
    if (options.algorithm === 'HS256') {
      this.signingKey = createSecretKey(Buffer.from(options.secret, 'utf8'));
      this.verifyingKey = this.signingKey;
    } else {
      this.signingKey = options.privateKey ? createPrivateKey(options.privateKey) : undefined;
      this.verifyingKey = createPublicKey(options.publicKey);
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

  /** The claims of a valid token; throws AuthFailure saying what is wrong otherwise. */
  verify(token: string): TokenClaims {
    const o = this.options;
    let payload: unknown;
    try {
      payload = jwt.verify(token, this.verifyingKey, {
        algorithms: [o.algorithm],
        issuer: o.issuer,
        audience: o.audience,
      });
    } catch (err) {
      if (err instanceof jwt.TokenExpiredError) throw new AuthFailure('expired');
      if (err instanceof jwt.JsonWebTokenError) {
        if (err.message === 'invalid signature') throw new AuthFailure('bad_signature');
        if (err.message === 'jwt malformed') throw new AuthFailure('malformed');
      }
      throw new AuthFailure('invalid_token');
    }
    const parsed = ClaimsSchema.safeParse(payload);
    if (!parsed.success) throw new AuthFailure('invalid_token');
    return { keyId: parsed.data.sub, tenantId: parsed.data.tenant, scopes: parsed.data.scopes };
  }
}
