import type { Response } from 'express';
import type { IngestResult } from '../ingest/ingestor';

/**
 * Answers an ingest result; a replay is marked as such. Written as express's `send` would
 * write this answer (the same headers), without its per-call checks, which do nothing for a
 * JSON answer to a POST: this is the answer of every accepted event.
 */
export function sendIngestResult(res: Response, result: IngestResult): void {
  if (result.replayed) res.setHeader('Idempotent-Replayed', 'true');
  res.statusCode = result.status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(result.bodyJson));
  res.end(result.bodyJson);
}
