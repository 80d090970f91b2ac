import type { Pool } from 'pg';
import { RetenError } from '@reten/contracts';
import type { Scope } from '@reten/contracts';
import type { Logger, Registry } from '@reten/observability';
import { AuthFailure, authFailureReason } from './auth-failure';
import type { AuthFailureReason } from './auth-failure';
import { authFailureCounter } from './auth-metrics';
import { apiKeyIdOf, apiKeyMatches, looksLikeApiKey } from './api-key-format';
import { ApiKeyStore } from './api-key-store';
import type { ApiKeyRecord } from './api-key-store';
import { TokenCodec } from './jwt';
import type { JwtOptions } from './jwt';
import { KeyCache } from './key-cache';
import type { KeyCacheOptions } from './key-cache';
import type { Principal } from './principal';
import { narrowScopes } from './scopes';

export interface AuthenticatorOptions {
  pool: Pool;
  /** PostgreSQL schema of the `api_keys` table (also names the revocation channel). */
  schema: string;
  jwt: JwtOptions;
  log: Logger;
  /** Where `reten_auth_failures_total` is registered (none: not counted). */
  registry?: Registry;
  cache?: Partial<KeyCacheOptions>;
  /** How often at most `last_used_at` of one key is written (default 60 s). */
  touchIntervalMs?: number;
}

/** An access token as `POST /api/v1/auth/token` answers it. */
export interface IssuedToken {
  token: string;
  expiresIn: number;
  scopes: Scope[];
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const NOTIFY_ECHO_TIMEOUT_MS = 2000;

/**
 * Turns bearer credentials (an `rtn_` API key or a JWT) into a Principal, or throws a 401
 * `unauthorized` saying why. Keys are cached per process and revoked at once everywhere
 * through PostgreSQL NOTIFY; a token is only as good as the key it was issued for.
 */
export class Authenticator {
  readonly keys: ApiKeyStore;
  private readonly cache: KeyCache;
  private readonly tokens: TokenCodec;
  private readonly countFailure: (reason: AuthFailureReason) => void;
  private readonly touched = new Map<string, number>();
  private readonly touchIntervalMs: number;

  constructor(private readonly options: AuthenticatorOptions) {
    this.keys = new ApiKeyStore(options.pool, options.schema);
    this.cache = new KeyCache(
      this.keys,
      options.pool,
      options.schema,
      { ttlMs: 300_000, maxEntries: 10_000, reconnectDelayMs: 1000, ...options.cache },
      options.log,
    );
    this.tokens = new TokenCodec(options.jwt);
    this.countFailure = authFailureCounter(options.registry);
    this.touchIntervalMs = options.touchIntervalMs ?? 60_000;
  }

  /** Starts the revocation listener. */
  async start(): Promise<void> {
    await this.cache.start();
  }

  async stop(): Promise<void> {
    await this.cache.stop();
  }

  /**
   * The principal behind `Authorization` header value (`Bearer <credential>`) or a bare
   * credential (e.g. a WebSocket `?token=`). Throws AuthFailure (401) otherwise.
   */
  async authenticate(bearer: string | undefined): Promise<Principal> {
    try {
      return await this.resolve(bearer);
    } catch (err) {
      const reason = authFailureReason(err);
      if (reason) this.countFailure(reason);
      throw err;
    }
  }

  /** A short-lived JWT for the principal, with `scopes` narrowed to what it holds. */
  issueToken(principal: Principal, scopes?: Scope[]): IssuedToken {
    const granted = scopes ? narrowScopes(principal.scopes, scopes) : principal.scopes;
    const token = this.tokens.sign({
      keyId: principal.keyId,
      tenantId: principal.tenantId,
      scopes: granted,
    });
    return { token, expiresIn: this.tokens.ttlSeconds, scopes: granted };
  }

  /**
   * Calls `listener(keyId)` when this process hears that a key was revoked (by any replica),
   * e.g. to close the WebSocket connections opened with it. Returns the remover.
   */
  onRevoked(listener: (keyId: string) => void): () => void {
    return this.cache.onRevoked(listener);
  }

  /**
   * Revokes a key of the tenant: refused here at once, and by every other replica as soon as
   * PostgreSQL delivers the NOTIFY (milliseconds). Returns once this process has heard its own
   * NOTIFY. False when the tenant has no such live key.
   */
  async revoke(tenantId: string, keyId: string): Promise<boolean> {
    const echo = this.cache.notified(keyId, NOTIFY_ECHO_TIMEOUT_MS);
    const revoked = await this.keys.revoke(tenantId, keyId);
    this.cache.invalidate(keyId);
    if (revoked) await echo;
    return revoked;
  }

  private async resolve(bearer: string | undefined): Promise<Principal> {
    const credential = credentialOf(bearer);
    if (looksLikeApiKey(credential)) {
      const keyId = apiKeyIdOf(credential);
      if (!keyId) throw new AuthFailure('malformed');
      // the secret is checked before anything else is said about the key (revoked or not)
      const record = await this.liveKey(keyId, (r) => apiKeyMatches(credential, r.keyHash));
      return { tenantId: record.tenantId, keyId, scopes: record.scopes, via: 'api_key' };
    }
    if (!JWT_SHAPE.test(credential)) throw new AuthFailure('malformed');
    const claims = this.tokens.verify(credential);
    const record = await this.liveKey(claims.keyId);
    if (record.tenantId !== claims.tenantId) throw new AuthFailure('invalid_token');
    return {
      tenantId: record.tenantId,
      keyId: record.id,
      scopes: narrowScopes(record.scopes, claims.scopes),
      via: 'jwt',
    };
  }

  /** The key's row if it exists, `proves` it (API keys: the secret matches) and is live. */
  private async liveKey(
    keyId: string,
    proves: (record: ApiKeyRecord) => boolean = () => true,
  ): Promise<ApiKeyRecord> {
    let record: ApiKeyRecord | undefined;
    try {
      record = await this.cache.get(keyId);
    } catch (err) {
      this.options.log.warn({ err, keyId }, 'api key lookup failed');
      throw new RetenError(
        'service_unavailable',
        'Credentials cannot be checked right now; retry',
        undefined,
        { cause: err },
      );
    }
    if (!record || !proves(record)) throw new AuthFailure('unknown_key');
    if (record.revokedAt) throw new AuthFailure('revoked_key');
    this.touch(keyId);
    return record;
  }

  private touch(keyId: string): void {
    const now = Date.now();
    const last = this.touched.get(keyId);
    if (last !== undefined && now - last < this.touchIntervalMs) return;
    if (this.touched.size > 10_000) this.touched.clear();
    this.touched.set(keyId, now);
    this.keys.touch(keyId).catch((err: unknown) => {
      this.options.log.warn({ err, keyId }, 'api key last_used_at update failed');
    });
  }
}

function credentialOf(bearer: string | undefined): string {
  const value = bearer?.trim();
  if (!value) throw new AuthFailure('missing');
  if (!/\s/.test(value)) return value;
  const m = BEARER.exec(value);
  if (!m?.[1]) throw new AuthFailure('malformed');
  return m[1];
}

/** Builds the authenticator a service uses; call `start()` before serving. */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  return new Authenticator(options);
}
