import express from 'express';
import type { RequestHandler } from 'express';
import { RetenError } from '@reten/contracts';

const JSON_TYPES = ['application/json', 'application/*+json'];

/** The body-parser error `type` of an empty body declared as JSON (mapped to `invalid_json`). */
export const EMPTY_BODY_ERROR_TYPE = 'entity.empty';

/** body-parser turns an empty body into `{}`; an empty body is not JSON, so refuse it. */
function refuseEmpty(_req: unknown, _res: unknown, buf: Buffer): void {
  if (buf.length === 0) {
    throw Object.assign(new Error('empty request body'), { type: EMPTY_BODY_ERROR_TYPE });
  }
}

/** Parses any JSON value (not only objects) up to `limitBytes`. */
export function jsonBody(limitBytes: number): RequestHandler {
  return express.json({ limit: limitBytes, strict: false, type: JSON_TYPES, verify: refuseEmpty });
}

/** 415 unless the request declares a JSON body; 400 when the body is empty. */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  if (!req.is(JSON_TYPES)) {
    next(
      new RetenError(
        'unsupported_media_type',
        `Content-Type must be application/json (got ${req.headers['content-type'] ?? 'none'})`,
      ),
    );
    return;
  }
  if (req.body === undefined) {
    next(new RetenError('invalid_json', 'The request body is empty; a JSON value is required'));
    return;
  }
  next();
};
