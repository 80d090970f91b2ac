import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** `rtn_<16 hex: key id>_<secret>`: the id lets us find the row, the whole key is hashed. */
const API_KEY_PATTERN = /^rtn_([0-9a-f]{16})_([A-Za-z0-9_-]{24,200})$/;

/** Whether a bearer credential looks like an API key (rather than a JWT). */
export function looksLikeApiKey(credential: string): boolean {
  return credential.startsWith('rtn_');
}

/** The key id (`ak_<hex>`) of a well-formed API key, or undefined. */
export function apiKeyIdOf(key: string): string | undefined {
  const m = API_KEY_PATTERN.exec(key);
  return m?.[1] ? `ak_${m[1]}` : undefined;
}

/** A new random API key (256-bit secret) and its id. */
export function generateApiKey(): { id: string; key: string } {
  const hex = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id: `ak_${hex}`, key: `rtn_${hex}_${secret}` };
}

/** SHA-256 of the key: keys are high-entropy, so a fast hash is enough. */
export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** Constant-time comparison of a presented key with a stored hash. */
export function apiKeyMatches(key: string, storedHash: Buffer): boolean {
  const presented = hashApiKey(key);
  return presented.length === storedHash.length && timingSafeEqual(presented, storedHash);
}
