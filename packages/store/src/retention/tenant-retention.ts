import type { Pool } from 'pg';
import { timeOfEventKey } from './event-key';

/** A tenant's events period: its own (null = the default) and the one that applies. */
export interface TenantEventsRetention {
  ownSeconds: number | null;
  effectiveSeconds: number;
  /** Events created before this instant are past the period (gone, or going at the next run). */
  retainedSince: Date;
}

/** Per-tenant events retention (`tenants.events_retention_seconds`). */
export class TenantRetentionStore {
  constructor(
    private readonly pool: Pool,
    private readonly defaultSeconds: number,
  ) {}

  /** The tenant's events period at `nowMs`; undefined when there is no such tenant. */
  async get(
    tenantId: string,
    nowMs: number = Date.now(),
  ): Promise<TenantEventsRetention | undefined> {
    const res = await this.pool.query<{ seconds: number | null }>(
      'SELECT events_retention_seconds AS seconds FROM tenants WHERE id = $1',
      [tenantId],
    );
    const row = res.rows[0];
    return row ? this.retention(row.seconds, nowMs) : undefined;
  }

  /** The period that applies to `tenantId` (the default for a tenant with no row). */
  async effective(tenantId: string, nowMs: number = Date.now()): Promise<TenantEventsRetention> {
    return (await this.get(tenantId, nowMs)) ?? this.retention(null, nowMs);
  }

  /** Sets the tenant's own period (null: back to the default); false when there is no tenant. */
  async set(tenantId: string, seconds: number | null): Promise<boolean> {
    const res = await this.pool.query(
      'UPDATE tenants SET events_retention_seconds = $2 WHERE id = $1',
      [tenantId, seconds],
    );
    return (res.rowCount ?? 0) > 0;
  }

  private retention(own: number | null, nowMs: number): TenantEventsRetention {
    const effectiveSeconds = own ?? this.defaultSeconds;
    return {
      ownSeconds: own,
      effectiveSeconds,
      retainedSince: new Date(nowMs - effectiveSeconds * 1000),
    };
  }
}

/** Whether an `evt_` + ULID id was created before `since` (false for any other id). */
export function createdBefore(eventId: string, since: Date): boolean {
  const ms = timeOfEventKey(eventId);
  return ms !== undefined && ms < since.getTime();
}
