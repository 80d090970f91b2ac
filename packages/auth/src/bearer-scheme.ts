import { RetenError } from '@reten/contracts';

/**
 * The refusal of an `Authorization` header that does not use the Bearer scheme (RFC 6750), or
 * undefined when it does or is absent (absent: the authenticator answers `missing`). The
 * authenticator itself also takes a bare credential, because WebSocket clients that cannot set
 * headers send one as `?token=`; a header must still name its scheme, on every service.
 */
export function bearerSchemeError(header: string | undefined): RetenError | undefined {
  const value = header?.trim();
  if (!value || /^Bearer[ \t]/i.test(value)) return undefined;
  return Object.assign(
    new RetenError(
      'unauthorized',
      'Malformed credentials: send Authorization: Bearer <api key | token>',
    ),
    { reason: 'malformed' },
  );
}
