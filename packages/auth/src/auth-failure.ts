import { RetenError } from '@reten/contracts';

/** Why credentials were refused; the label of `reten_auth_failures_total`. */
export type AuthFailureReason =
  | 'missing'
  | 'malformed'
  | 'unknown_key'
  | 'revoked_key'
  | 'bad_signature'
  | 'expired'
  | 'invalid_token';

const MESSAGES: Record<AuthFailureReason, string> = {
  missing: 'Missing credentials: send Authorization: Bearer <api key | token>',
  malformed: 'Malformed credentials: expected an rtn_ API key or a JWT',
  unknown_key: 'Unknown API key',
  revoked_key: 'The API key has been revoked',
  bad_signature: 'The token signature is invalid',
  expired: 'The token has expired',
  invalid_token: 'The token is not valid for this service',
};

/** A 401 `unauthorized` that says which problem it is; never carries the credential itself. */
export class AuthFailure extends RetenError {
  constructor(readonly reason: AuthFailureReason) {
    super('unauthorized', MESSAGES[reason]);
  }
}

/** The failure reason of an error thrown by `Authenticator.authenticate`, if it is one. */
export function authFailureReason(err: unknown): AuthFailureReason | undefined {
  if (typeof err !== 'object' || err === null || !('reason' in err)) return undefined;
  const reason = err.reason;
  return typeof reason === 'string' && reason in MESSAGES
    ? (reason as AuthFailureReason)
    : undefined;
}
