import type { Pool } from 'pg';
import { pendingDeltas } from './count-deltas';

/** Attempts of one time bucket; `index` counts buckets from the start of the range. */
export interface AttemptBucketCount {
  index: number;
  attempts: number;
  succeeded: number;
}

/**
 * An endpoint's attempts counted per time bucket, for the API's timeline, from the per-minute
 * counters kept with the attempts (`webhook_attempt_counts`, plus their deltas not compacted
 * yet): an index range over the minutes asked for, whatever the size of `webhook_attempts`.
 */
export class AttemptTimelineRepo {
  constructor(private readonly pool: Pool) {}

  /**
   * The buckets of [since, until) that hold attempts of the endpoint (empty ones are left out);
   * `undefined` when the endpoint is not the tenant's.
   */
  async countsByBucket(
    tenantId: string,
    endpointId: string,
    range: { since: Date; until: Date; bucketSeconds: number },
  ): Promise<AttemptBucketCount[] | undefined> {
    const owned = await this.pool.query(
      'SELECT 1 FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2',
      [tenantId, endpointId],
    );
    if (owned.rowCount === 0) return undefined;
    // counted by the minute an attempt started in: it falls in the bucket that holds the start
    // of that minute (the first bucket, for the minute `since` falls in)
    const res = await this.pool.query<{ bucket: string; attempts: string; succeeded: string }>(
      `SELECT greatest(0, floor((extract(epoch FROM minute) * 1000 - $3) / ($5::bigint * 1000)))
                AS bucket,
              sum(attempts) AS attempts, sum(succeeded) AS succeeded
         FROM (SELECT minute, attempts, succeeded FROM webhook_attempt_counts
                WHERE endpoint_id = $2 AND tenant_id = $1
               UNION ALL
               SELECT minute, attempts, succeeded FROM ${pendingDeltas('$1', '$2')} p) c
        WHERE minute > to_timestamp($3 / 1000.0) - interval '1 minute'
          AND minute < to_timestamp($4 / 1000.0)
        GROUP BY 1`,
      [tenantId, endpointId, range.since.getTime(), range.until.getTime(), range.bucketSeconds],
    );
    return res.rows.map((r) => ({
      index: Number(r.bucket),
      attempts: Number(r.attempts),
      succeeded: Number(r.succeeded),
    }));
  }
}

/**
 * Deletes the per-minute attempt counts older than `cutoff` (retention: the timeline of a time
 * whose attempts are gone keeps no counts either), `batchRows` at a time, at most `maxBatches`
 * statements; returns how many rows went. The totals of the stats are kept.
 */
export async function pruneAttemptCounts(
  pool: Pool,
  cutoff: Date,
  limits: { batchRows: number; maxBatches: number },
): Promise<number> {
  let total = 0;
  for (let i = 0; i < limits.maxBatches; i++) {
    const res = await pool.query(
      `DELETE FROM webhook_attempt_counts WHERE ctid = ANY (ARRAY(
         SELECT ctid FROM webhook_attempt_counts WHERE minute < $1 LIMIT $2))`,
      [cutoff.toISOString(), limits.batchRows],
    );
    const n = res.rowCount ?? 0;
    total += n;
    if (n < limits.batchRows) break;
  }
  return total;
}
