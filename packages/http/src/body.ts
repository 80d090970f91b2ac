import { isUtf8 } from 'node:buffer';
import express from 'express';
import type { Request, RequestHandler } from 'express';
import typeis from 'type-is';
import { RetenError } from '@reten/contracts';
import { MAX_JSON_DEPTH, inspectJson } from './json-inspect';

const JSON_TYPES = ['application/json', 'application/*+json'];

/**
 * Whether the request declares a JSON body: express's `req.is`, without express's request
 * object, so the gateway's EVCI path can run this on a plain node:http request.
 */
function declaresJson(req: Request): boolean {
  // the matched type; false when it is not JSON, null when the request has no body
  return Boolean(typeis(req, JSON_TYPES));
}

interface BodyReadError {
  type?: string;
  limit?: number;
  encoding?: string;
}

/** What reading the body failed with (body-parser's `type`), as one of our codes. */
function readError(err: unknown): RetenError {
  const e = (typeof err === 'object' && err !== null ? err : {}) as BodyReadError;
  switch (e.type) {
    case 'entity.too.large':
      return new RetenError(
        'payload_too_large',
        `The request body is larger than the limit of ${e.limit ?? '?'} bytes`,
      );
    case 'encoding.unsupported':
      return new RetenError(
        'unsupported_media_type',
        'Unsupported Content-Encoding: send gzip, deflate, br or identity',
      );
    default:
      // zlib/brotli data errors, a body shorter or longer than Content-Length, an aborted upload
      return new RetenError(
        'invalid_body',
        'The request body could not be read: it does not decode with its Content-Encoding or ended early',
      );
  }
}

/** RFC 8259 §8.1: JSON exchanged between systems is UTF-8; any other charset is refused. */
function assertUtf8Charset(req: Request): void {
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(req.headers['content-type'] ?? '')?.[1];
  if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
    throw new RetenError(
      'unsupported_media_type',
      `Unsupported charset ${charset}: JSON bodies are UTF-8`,
    );
  }
}

function parse(bytes: Buffer, maxDepth: number): unknown {
  if (bytes.length === 0) {
    throw new RetenError('invalid_json', 'The request body is empty; a JSON value is required');
  }
  // Buffer#toString would turn invalid bytes into U+FFFD and store other text than was sent
  if (!isUtf8(bytes)) throw new RetenError('invalid_json', 'The request body is not valid UTF-8');
  const text = bytes.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new RetenError('invalid_json', 'The request body is not valid JSON');
  }
  const problem = inspectJson(text, maxDepth);
  if (problem) {
    throw new RetenError('validation_failed', `Invalid ${problem.path}: ${problem.message}`, [
      problem,
    ]);
  }
  return value;
}

/**
 * Reads and parses a JSON body (any JSON value) of up to `limitBytes` decoded bytes, gzip,
 * deflate or br encoded or not. Refuses, before any route runs: invalid UTF-8 and invalid JSON
 * (400 `invalid_json`), data that cannot be stored as sent (422, see `inspectJson`), an
 * undecodable encoding (400 `invalid_body`). A body not declared as JSON is left unread
 * (`req.body` undefined): routes that take a body answer it 415.
 */
export function jsonBody(limitBytes: number, maxDepth = MAX_JSON_DEPTH): RequestHandler {
  const read = express.raw({ limit: limitBytes, type: JSON_TYPES, inflate: true });
  return (req, res, next) => {
    if (!declaresJson(req)) {
      next();
      return;
    }
    try {
      assertUtf8Charset(req);
    } catch (err) {
      next(err);
      return;
    }
    read(req, res, (err?: unknown) => {
      if (err) {
        next(readError(err));
        return;
      }
      if (!Buffer.isBuffer(req.body)) {
        next();
        return;
      }
      try {
        req.body = parse(req.body, maxDepth);
        next();
      } catch (parseError) {
        next(parseError);
      }
    });
  };
}

function unsupported(req: Request): RetenError {
  return new RetenError(
    'unsupported_media_type',
    `Content-Type must be application/json (got ${req.headers['content-type'] ?? 'none'})`,
  );
}

/** Whether the request carries body bytes (a Content-Length above 0, or a chunked body). */
function carriesBody(req: Request): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = Number(req.headers['content-length'] ?? '0');
  return !Number.isFinite(length) || length > 0;
}

/** 415 unless the request declares a JSON body; 400 when the body is empty. */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  if (!declaresJson(req)) {
    next(unsupported(req));
    return;
  }
  if (req.body === undefined) {
    next(new RetenError('invalid_json', 'The request body is empty; a JSON value is required'));
    return;
  }
  next();
};

/**
 * For routes whose body may be left out: no body at all is fine (the route applies its
 * defaults); a body that is there must be JSON (415 otherwise), never ignored.
 */
export const optionalJsonBody: RequestHandler = (req, _res, next) => {
  if (req.body === undefined && carriesBody(req)) {
    next(unsupported(req));
    return;
  }
  next();
};

/** The body of a route that takes an optional JSON object: `{}` when no body was sent. */
export function optionalBodyOf(req: Request): unknown {
  return req.body === undefined ? {} : req.body;
}
