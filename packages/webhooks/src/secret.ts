import { generateKeyPairSync, randomBytes } from 'node:crypto';

/** Prefix of a shared signing secret (Standard Webhooks): `whsec_` + base64 of the key bytes. */
export const SECRET_PREFIX = 'whsec_';
/** Prefix of an ed25519 public key (Standard Webhooks `v1a`): `whpk_` + base64 of the 32 raw bytes. */
export const PUBLIC_KEY_PREFIX = 'whpk_';
/** Prefix of an ed25519 private key as Reten stores it: `whsk_` + base64 of its PKCS#8 DER. */
export const PRIVATE_KEY_PREFIX = 'whsk_';

const SECRET_BYTES = 32;

/** A new shared secret: `whsec_` + base64 of 32 random bytes. */
export function generateSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(SECRET_BYTES).toString('base64')}`;
}

/** The key bytes of a `whsec_…` secret (what the Standard Webhooks `v1` HMAC is keyed with). */
export function secretKeyBytes(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  return Buffer.from(encoded, 'base64');
}

/** Whether a string is a well-formed shared secret (`whsec_` + base64 of 24 to 64 bytes). */
export function isSecret(value: string): boolean {
  if (!value.startsWith(SECRET_PREFIX)) return false;
  const encoded = value.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return false;
  const n = Buffer.from(encoded, 'base64').length;
  return n >= 24 && n <= 64;
}

export interface Ed25519KeyPair {
  /** `whpk_…`: published to subscribers, who verify `v1a` signatures with it. */
  publicKey: string;
  /** `whsk_…`: kept by Reten, signs. */
  privateKey: string;
}

/** A new ed25519 key pair for `v1a` signatures. */
export function generateEd25519KeyPair(): Ed25519KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' });
  const raw = Buffer.from(jwk.x ?? '', 'base64url');
  return {
    publicKey: `${PUBLIC_KEY_PREFIX}${raw.toString('base64')}`,
    privateKey: `${PRIVATE_KEY_PREFIX}${privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64')}`,
  };
}
