import { createHash } from 'node:crypto';
import type { Request } from 'express';
import { RetenError } from '@reten/contracts';
import { requestPathOf } from '@reten/http';
import type { IdempotencyStore } from '@reten/store';

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/**
 * The Idempotency-Key of a request, or undefined. The IETF draft sends it as a structured
 * field string (`"abc"`); a bare token is accepted too.
 */
export function idempotencyKeyOf(req: Request): string | undefined {
  // node joins a repeated header with ", " (an invalid key then)
  const header = req.headers['idempotency-key'];
  if (header === undefined) return undefined;
  const raw = Array.isArray(header) ? header.join(', ') : header;
  const trimmed = raw.trim();
  const key =
    trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"')
      ? trimmed.slice(1, -1)
      : trimmed;
  if (!KEY_PATTERN.test(key)) {
    throw new RetenError('validation_failed', 'Invalid Idempotency-Key header', [
      { path: 'headers.idempotency-key', message: 'must be 1 to 255 visible ASCII characters' },
    ]);
  }
  return key;
}

/**
 * What "the same request" means for a key: method, path and the parsed JSON body, and the
 * ordering key when a header carries it (EVCI), since the body does not.
 */
export function requestFingerprint(req: Request, headerOrderingKey?: string): string {
  const hash = createHash('sha256')
    .update(`${req.method} ${requestPathOf(req)}\n`)
    .update(JSON.stringify(req.body ?? null));
  // appended only when present: fingerprints of requests without one stay what they were
  if (headerOrderingKey !== undefined) hash.update(`\nordering-key ${headerOrderingKey}`);
  return hash.digest('hex');
}

/**
 * Claims `key` for this request: `claimed` (run it), or the first answer to replay. The same
 * key with another request is 422 `idempotency_key_reused`; while the first request runs,
 * 409 `idempotency_key_in_progress`; a database that cannot be asked, 503 (nothing was
 * accepted, the client retries).
 */
export async function claimIdempotencyKey(
  store: IdempotencyStore,
  tenantId: string,
  key: string,
  fingerprint: string,
): Promise<{ kind: 'claimed' } | { kind: 'replay'; status: number; bodyJson: string }> {
  const claim = await store.claim(tenantId, key, fingerprint).catch((err: unknown) => {
    // the database is down: like every other database outage, a 503 the client retries
    throw new RetenError(
      'service_unavailable',
      'The Idempotency-Key could not be checked; nothing was accepted, retry',
      undefined,
      { cause: err },
    );
  });
  if (claim.kind === 'reused') {
    throw new RetenError(
      'idempotency_key_reused',
      'This Idempotency-Key was already used with a different request body',
    );
  }
  if (claim.kind === 'in_progress') {
    throw new RetenError(
      'idempotency_key_in_progress',
      'A request with this Idempotency-Key is still being processed; retry later',
    );
  }
  return claim;
}
