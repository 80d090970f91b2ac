import type { Pool } from 'pg';

export type IdempotencyClaim =
  | { kind: 'claimed' }
  | { kind: 'replay'; status: number; bodyJson: string }
  | { kind: 'reused' }
  | { kind: 'in_progress' };

interface KeyRecord {
  request_hash: string;
  state: 'in_progress' | 'completed';
  response_status: number | null;
  response_json: string | null;
  stale: boolean;
}

/** Idempotency-Key records: claim before work, complete with the response, release on failure. */
export class IdempotencyStore {
  constructor(
    private readonly pool: Pool,
    private readonly ttlSeconds: number,
    private readonly lockTimeoutSeconds: number,
  ) {}

  /**
   * Claims `key` for a request whose body hashes to `hash`. A key that is still in progress
   * after the lock timeout belongs to a request that died; it can be claimed again.
   */
  async claim(tenantId: string, key: string, hash: string): Promise<IdempotencyClaim> {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const inserted = await this.pool.query(
        `INSERT INTO idempotency_keys (tenant_id, idempotency_key, request_hash, state, expires_at)
         VALUES ($1, $2, $3, 'in_progress', now() + make_interval(secs => $4))
         ON CONFLICT (tenant_id, idempotency_key) DO NOTHING`,
        [tenantId, key, hash, this.ttlSeconds],
      );
      if (inserted.rowCount === 1) return { kind: 'claimed' };
      const existing = await this.pool.query<KeyRecord>(
        `SELECT request_hash, state, response_status, response_body #>> '{}' AS response_json,
                (expires_at < now() OR (state = 'in_progress' AND locked_at < now() - make_interval(secs => $3))) AS stale
           FROM idempotency_keys WHERE tenant_id = $1 AND idempotency_key = $2`,
        [tenantId, key, this.lockTimeoutSeconds],
      );
      const row = existing.rows[0];
      if (!row) continue; // released in between: try to claim again
      if (row.stale) {
        const taken = await this.pool.query(
          `UPDATE idempotency_keys
              SET request_hash = $3, state = 'in_progress', response_status = NULL, response_body = NULL,
                  locked_at = now(), created_at = now(), expires_at = now() + make_interval(secs => $4)
            WHERE tenant_id = $1 AND idempotency_key = $2
              AND (expires_at < now() OR (state = 'in_progress' AND locked_at < now() - make_interval(secs => $5)))`,
          [tenantId, key, hash, this.ttlSeconds, this.lockTimeoutSeconds],
        );
        if (taken.rowCount === 1) return { kind: 'claimed' };
        continue;
      }
      if (row.request_hash !== hash) return { kind: 'reused' };
      if (row.state === 'in_progress') return { kind: 'in_progress' };
      return {
        kind: 'replay',
        status: row.response_status ?? 200,
        bodyJson: row.response_json ?? 'null',
      };
    }
    return { kind: 'in_progress' };
  }

  /** Gives a claimed key back after the request failed, so a retry can run. */
  async release(tenantId: string, key: string): Promise<void> {
    await this.pool.query(
      `DELETE FROM idempotency_keys WHERE tenant_id = $1 AND idempotency_key = $2 AND state = 'in_progress'`,
      [tenantId, key],
    );
  }

  /** Completes a key outside a batch insert (e.g. for PUT). */
  async complete(tenantId: string, key: string, status: number, bodyJson: string): Promise<void> {
    // stored as a JSON string holding the exact text: a replay answers the same bytes
    await this.pool.query(
      `UPDATE idempotency_keys SET state = 'completed', response_status = $3, response_body = to_jsonb($4::text)
        WHERE tenant_id = $1 AND idempotency_key = $2`,
      [tenantId, key, status, bodyJson],
    );
  }

  /** Deletes expired keys; returns how many. */
  async sweepExpired(): Promise<number> {
    const res = await this.pool.query('DELETE FROM idempotency_keys WHERE expires_at < now()');
    return res.rowCount ?? 0;
  }
}
