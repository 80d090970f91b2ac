import type { Response } from 'express';
import type { IngestResult } from '../ingest/ingestor';

/** Answers an ingest result; a replay is marked as such. */
export function sendIngestResult(res: Response, result: IngestResult): void {
  if (result.replayed) res.setHeader('Idempotent-Replayed', 'true');
  res.status(result.status).type('application/json').send(result.bodyJson);
}
