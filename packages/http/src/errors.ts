import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { RetenError, isRetenError } from '@reten/contracts';
import type { ErrorEnvelope } from '@reten/contracts';
import type { Logger } from '@reten/observability';

/** Writes the error envelope (and `Retry-After`, if the error has one). The only place an error becomes an HTTP response. */
export function sendError(res: Response, err: RetenError): void {
  if (res.headersSent) return;
  const body: ErrorEnvelope = err.toEnvelope();
  if (err.retryAfterSeconds !== undefined && !res.hasHeader('Retry-After')) {
    res.setHeader('Retry-After', String(err.retryAfterSeconds));
  }
  res.status(err.status).json(body);
}

interface BodyParserError {
  type?: string;
  status?: number;
  limit?: number;
  charset?: string;
}

/** Maps body-parser's failures (they carry a `type`) to our codes. */
function fromBodyParser(err: BodyParserError): RetenError | undefined {
  switch (err.type) {
    case 'entity.parse.failed':
      return new RetenError('invalid_json', 'The request body is not valid JSON');
    case 'entity.too.large':
      return new RetenError(
        'payload_too_large',
        `The request body is larger than the limit of ${err.limit ?? '?'} bytes`,
      );
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return new RetenError('unsupported_media_type', 'Unsupported body charset or encoding');
    case 'request.aborted':
    case 'request.size.invalid':
      return new RetenError('bad_request', 'The request body was incomplete');
    default:
      return undefined;
  }
}

/**
 * The router decodes path parameters with decodeURIComponent: `%FF` (not UTF-8) or a lone `%`
 * throws a URIError before any route runs. That is the client's malformed path, not our fault.
 */
function fromPathDecoding(err: unknown): RetenError | undefined {
  if (!(err instanceof URIError)) return undefined;
  return new RetenError('bad_request', 'The path is not valid percent-encoded UTF-8');
}

export interface ErrorHandlerOptions {
  /**
   * The answer to a failure of a dependency that is not a bug (e.g. the database timed out or
   * cannot be reached: 503 `service_unavailable`); undefined for anything else.
   */
  dependencyError?: (err: unknown) => RetenError | undefined;
}

/**
 * The express error handler: RetenError → its envelope, a dependency's failure that
 * `dependencyError` recognises → its answer (logged as a warning), anything else → 500
 * `internal_error`.
 */
export function errorHandler(log: Logger, options: ErrorHandlerOptions = {}): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    void _next;
    if (isRetenError(err)) {
      sendError(res, err);
      return;
    }
    const unavailable = options.dependencyError?.(err);
    if (unavailable) {
      log.warn({ err, method: req.method, path: req.path }, unavailable.message);
      sendError(res, unavailable);
      return;
    }
    const clientError =
      fromPathDecoding(err) ??
      (typeof err === 'object' && err !== null ? fromBodyParser(err) : undefined);
    if (clientError) {
      sendError(res, clientError);
      return;
    }
    log.error({ err, method: req.method, path: req.path }, 'unhandled request error');
    sendError(res, new RetenError('internal_error', 'Internal server error'));
  };
}

/** Unknown routes answer 404 `route_not_found` in the envelope. */
export const notFoundHandler: RequestHandler = (req, res) => {
  sendError(res, new RetenError('route_not_found', `No route for ${req.method} ${req.path}`));
};
