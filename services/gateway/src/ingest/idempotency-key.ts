import { createHash } from 'node:crypto';
import type { Request } from 'express';
import { RetenError } from '@reten/contracts';

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/**
 * The Idempotency-Key of a request, or undefined. The IETF draft sends it as a structured
 * field string (`"abc"`); a bare token is accepted too.
 */
export function idempotencyKeyOf(req: Request): string | undefined {
  const raw = req.get('idempotency-key');
  if (raw === undefined) return undefined;
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

/** What "the same request" means for a key: method, path and the parsed JSON body. */
export function requestFingerprint(req: Request): string {
  return createHash('sha256')
    .update(`${req.method} ${req.baseUrl}${req.path}\n`)
    .update(JSON.stringify(req.body ?? null))
    .digest('hex');
}
