import type { Response } from 'express';
import type { IngestResult } from '../ingest/ingestor';

/**
 * Writes a JSON answer as express's `send` would (the same headers), without its per-call
 * checks: its freshness check among them, which answers 304 to an `If-None-Match` that names
 * the ETag a handler set. `Content-Length` is set here, not taken from `end()`'s data, so a
 * HEAD answer carries it too.
 */
export function sendJsonText(res: Response, status: number, bodyJson: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(bodyJson));
  res.end(bodyJson);
}

/**
 * Answers an ingest result; a replay is marked as such. Without express's checks, which do
 * nothing for a JSON answer to a POST: this is the answer of every accepted event.
 */
export function sendIngestResult(res: Response, result: IngestResult): void {
  if (result.replayed) res.setHeader('Idempotent-Replayed', 'true');
  sendJsonText(res, result.status, result.bodyJson);
}
