export {
  PRIVATE_KEY_PREFIX,
  PUBLIC_KEY_PREFIX,
  SECRET_PREFIX,
  generateEd25519KeyPair,
  generateSecret,
  isSecret,
  secretKeyBytes,
} from './secret';
export type { Ed25519KeyPair } from './secret';
export { WEBHOOK_HEADERS, ed25519Signature, retenSignature, signWebhook } from './sign';
export type { SignInput } from './sign';
export { WebhookVerificationError, verifyWebhook } from './verify';
export type { HeaderBag, VerifyOptions } from './verify';
export {
  TargetRefusedError,
  checkTarget,
  guardedLookup,
  isPublicAddress,
  parseTargetUrl,
} from './target-guard';
export type { TargetPolicy } from './target-guard';
