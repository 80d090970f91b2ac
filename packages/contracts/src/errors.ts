import { z } from 'zod';

/**
 * The closed list of error codes, with the HTTP status each one answers with.
 * docs/errors.md documents every code; a test fails when the two disagree.
 */
export const ERROR_STATUS = {
  bad_request: 400,
  invalid_json: 400,
  invalid_body: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  route_not_found: 404,
  method_not_allowed: 405,
  idempotency_key_in_progress: 409,
  conflict: 409,
  ordering_key_immutable: 409,
  request_timeout: 408,
  precondition_failed: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  validation_failed: 422,
  idempotency_key_reused: 422,
  rate_limit_exceeded: 429,
  request_header_fields_too_large: 431,
  internal_error: 500,
  service_unavailable: 503,
  commit_outcome_unknown: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

export const ErrorDetailSchema = z.object({
  path: z.string().describe('Where the problem is, e.g. `body.event_type` or `query.limit`'),
  message: z.string(),
});
export type ErrorDetail = z.infer<typeof ErrorDetailSchema>;

export const ErrorEnvelopeSchema = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES as [ErrorCode, ...ErrorCode[]]),
      message: z.string(),
      status: z.number().int(),
      details: z.array(ErrorDetailSchema).optional(),
    }),
  })
  .meta({ id: 'Error' });
export type ErrorEnvelope = z.infer<typeof ErrorEnvelopeSchema>;

const RETEN_ERROR_BRAND = Symbol.for('reten.error');

/** The `Retry-After` of a 503 that does not name its own: a dependency or the service is expected back soon. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 1;

/** An expected failure with a stable code; the HTTP layer turns it into the error envelope. */
export class RetenError extends Error {
  readonly [RETEN_ERROR_BRAND] = true;
  readonly status: number;
  /** The answer's `Retry-After` in seconds; every 503 has one (by default 1). */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetail[],
    options?: { cause?: unknown; status?: number; retryAfterSeconds?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RetenError';
    this.status = options?.status ?? ERROR_STATUS[code];
    this.retryAfterSeconds =
      options?.retryAfterSeconds ??
      (this.status === 503 ? UNAVAILABLE_RETRY_AFTER_SECONDS : undefined);
  }

  /** The error envelope this error answers with. */
  toEnvelope(): ErrorEnvelope {
    return {
      error: {
        code: this.code,
        message: this.message,
        status: this.status,
        ...(this.details && this.details.length > 0 ? { details: this.details } : {}),
      },
    };
  }
}

/** Brand check rather than instanceof, so errors are recognised across package copies. */
export function isRetenError(value: unknown): value is RetenError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[RETEN_ERROR_BRAND] === true
  );
}
