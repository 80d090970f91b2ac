import type { Pool } from 'pg';

/** A tenant's own rate limits; null means the deployment's default. */
export interface TenantLimitsRecord {
  restRequestsPerMinute: number | null;
  ingestEventsPerSecond: number | null;
}

interface TenantRow {
  rest_requests_per_minute: number | null;
  ingest_events_per_second: number | null;
}

function toLimits(row: TenantRow): TenantLimitsRecord {
  return {
    restRequestsPerMinute: row.rest_requests_per_minute,
    ingestEventsPerSecond: row.ingest_events_per_second,
  };
}

/** Tenants in PostgreSQL: existence and per-tenant limits. */
export class TenantStore {
  private readonly table: string;

  constructor(
    private readonly pool: Pool,
    schema: string,
  ) {
    // schema is validated as a plain identifier by the config schema
    this.table = `"${schema}".tenants`;
  }

  /** Creates the tenant unless it exists; returns whether it was created. */
  async ensure(id: string, name: string): Promise<boolean> {
    const res = await this.pool.query(
      `INSERT INTO ${this.table} (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`,
      [id, name],
    );
    return (res.rowCount ?? 0) > 0;
  }

  /** The tenant's limits, or undefined when there is no such tenant. */
  async limits(id: string): Promise<TenantLimitsRecord | undefined> {
    const res = await this.pool.query<TenantRow>(
      `SELECT rest_requests_per_minute, ingest_events_per_second FROM ${this.table} WHERE id = $1`,
      [id],
    );
    const row = res.rows[0];
    return row ? toLimits(row) : undefined;
  }

  /** Sets the given limits (undefined: unchanged, null: back to the default). */
  async setLimits(
    id: string,
    patch: Partial<TenantLimitsRecord>,
  ): Promise<TenantLimitsRecord | undefined> {
    const res = await this.pool.query<TenantRow>(
      `UPDATE ${this.table} SET
         rest_requests_per_minute = CASE WHEN $2 THEN $3::integer ELSE rest_requests_per_minute END,
         ingest_events_per_second = CASE WHEN $4 THEN $5::integer ELSE ingest_events_per_second END
       WHERE id = $1 RETURNING rest_requests_per_minute, ingest_events_per_second`,
      [
        id,
        patch.restRequestsPerMinute !== undefined,
        patch.restRequestsPerMinute ?? null,
        patch.ingestEventsPerSecond !== undefined,
        patch.ingestEventsPerSecond ?? null,
      ],
    );
    const row = res.rows[0];
    return row ? toLimits(row) : undefined;
  }
}
