import { randomUUID } from 'node:crypto';
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
  locked_by: string | null;
  stale: boolean;
}

/** Pauses between tries of a release that failed (the database is likely down): 0.25 s to 2 s. */
const RELEASE_RETRY_MIN_MS = 250;
const RELEASE_RETRY_MAX_MS = 2_000;

/**
 * Idempotency-Key records: claim before work, complete with the response, release on failure.
 * A claim names its holder (`locked_by`: this store's process id and a claim number), and the
 * store remembers which of its claims are still running. A 409 then means what it says: another
 * request with the key runs now. A claim of this process whose request already ended (its release
 * lost to a database outage) is taken over at once; other processes retry the release in the
 * background until it succeeds, and the lock timeout is the last resort for a process that died.
 */
export class IdempotencyStore {
  private readonly holderId = randomUUID();
  private claims = 0;
  /** Running claims of this process: `tenant \0 key` → claim token. */
  private readonly running = new Map<string, string>();

  constructor(
    private readonly pool: Pool,
    private readonly ttlSeconds: number,
    private readonly lockTimeoutSeconds: number,
  ) {}

  /**
   * Claims `key` for a request whose body hashes to `hash`. A key still in progress is free
   * again when its claim belongs to this process but no request of it runs, or after the lock
   * timeout (its process died).
   */
  async claim(tenantId: string, key: string, hash: string): Promise<IdempotencyClaim> {
    const token = `${this.holderId}/${(this.claims += 1)}`;
    try {
      return await this.tryClaim(tenantId, key, hash, token);
    } catch (err) {
      // the claim may have been stored with its answer lost: give it back once the database answers
      this.releaseInBackground(tenantId, key, token);
      throw err;
    }
  }

  private async tryClaim(
    tenantId: string,
    key: string,
    hash: string,
    token: string,
  ): Promise<IdempotencyClaim> {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const inserted = await this.pool.query(
        `INSERT INTO idempotency_keys (tenant_id, idempotency_key, request_hash, state, expires_at, locked_by)
         VALUES ($1, $2, $3, 'in_progress', now() + make_interval(secs => $4), $5)
         ON CONFLICT (tenant_id, idempotency_key) DO NOTHING`,
        [tenantId, key, hash, this.ttlSeconds, token],
      );
      if (inserted.rowCount === 1) return this.claimed(tenantId, key, token);
      const existing = await this.pool.query<KeyRecord>(
        `SELECT request_hash, state, response_status, response_body #>> '{}' AS response_json, locked_by,
                (expires_at < now() OR (state = 'in_progress' AND locked_at < now() - make_interval(secs => $3))) AS stale
           FROM idempotency_keys WHERE tenant_id = $1 AND idempotency_key = $2`,
        [tenantId, key, this.lockTimeoutSeconds],
      );
      const row = existing.rows[0];
      if (!row) continue; // released in between: try to claim again
      if (row.stale || (row.state === 'in_progress' && this.isEndedClaim(tenantId, key, row))) {
        // compare-and-set on the holder: of two requests taking over, one wins
        const taken = await this.pool.query(
          `UPDATE idempotency_keys
              SET request_hash = $3, state = 'in_progress', response_status = NULL, response_body = NULL,
                  locked_at = now(), created_at = now(), expires_at = now() + make_interval(secs => $4),
                  locked_by = $5
            WHERE tenant_id = $1 AND idempotency_key = $2 AND locked_by IS NOT DISTINCT FROM $6
              AND state = $7`,
          [tenantId, key, hash, this.ttlSeconds, token, row.locked_by, row.state],
        );
        if (taken.rowCount === 1) return this.claimed(tenantId, key, token);
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

  private claimed(tenantId: string, key: string, token: string): IdempotencyClaim {
    this.running.set(runningKey(tenantId, key), token);
    return { kind: 'claimed' };
  }

  /** A claim made by this process for a request that is no longer running. */
  private isEndedClaim(tenantId: string, key: string, row: KeyRecord): boolean {
    const holder = row.locked_by;
    if (holder === null || !holder.startsWith(`${this.holderId}/`)) return false;
    return this.running.get(runningKey(tenantId, key)) !== holder;
  }

  /** The request that claimed `key` has ended with its key completed (in the same commit). */
  finished(tenantId: string, key: string): void {
    this.running.delete(runningKey(tenantId, key));
  }

  /**
   * Gives a claimed key back after the request failed, so a retry can run. When the database
   * does not answer, the release goes on in the background (until the lock timeout) and this
   * resolves at once: the caller's request has failed either way.
   */
  async release(tenantId: string, key: string): Promise<void> {
    const id = runningKey(tenantId, key);
    const token = this.running.get(id);
    this.running.delete(id);
    try {
      await this.deleteClaim(tenantId, key, token);
    } catch {
      this.releaseInBackground(tenantId, key, token);
    }
  }

  /** Retries deleting a claim, with backoff, until it succeeds or the lock timeout ends. */
  private releaseInBackground(tenantId: string, key: string, token: string | undefined): void {
    const deadline = Date.now() + this.lockTimeoutSeconds * 1000;
    const attempt = (delayMs: number): void => {
      setTimeout(() => {
        this.deleteClaim(tenantId, key, token).catch(() => {
          const next = Math.min(delayMs * 2, RELEASE_RETRY_MAX_MS);
          if (Date.now() + next < deadline) attempt(next);
        });
      }, delayMs).unref();
    };
    attempt(RELEASE_RETRY_MIN_MS);
  }

  private async deleteClaim(
    tenantId: string,
    key: string,
    token: string | undefined,
  ): Promise<void> {
    await this.pool.query(
      `DELETE FROM idempotency_keys
        WHERE tenant_id = $1 AND idempotency_key = $2 AND state = 'in_progress'
          AND ($3::text IS NULL OR locked_by = $3)`,
      [tenantId, key, token ?? null],
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
    this.finished(tenantId, key);
  }

  /** Deletes expired keys; returns how many. */
  async sweepExpired(): Promise<number> {
    const res = await this.pool.query('DELETE FROM idempotency_keys WHERE expires_at < now()');
    return res.rowCount ?? 0;
  }
}

function runningKey(tenantId: string, key: string): string {
  return `${tenantId}\0${key}`;
}
