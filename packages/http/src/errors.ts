import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { RetenError, isRetenError } from '@reten/contracts';
import type { ErrorEnvelope } from '@reten/contracts';
import type { Logger } from '@reten/observability';
import { EMPTY_BODY_ERROR_TYPE } from './body';

/** Writes the error envelope. The only place an error becomes an HTTP response. */
export function sendError(res: Response, err: RetenError): void {
  if (res.headersSent) return;
  const body: ErrorEnvelope = err.toEnvelope();
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
    case EMPTY_BODY_ERROR_TYPE:
      return new RetenError('invalid_json', 'The request body is empty; a JSON value is required');
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

/** The express error handler: RetenError → its envelope, anything else → 500 `internal_error`. */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    void _next;
    if (isRetenError(err)) {
      sendError(res, err);
      return;
    }
    const parserError = typeof err === 'object' && err !== null ? fromBodyParser(err) : undefined;
    if (parserError) {
      sendError(res, parserError);
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
