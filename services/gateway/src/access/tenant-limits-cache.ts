import type { TenantLimitsRecord, TenantStore } from '@reten/auth';
import type { Logger } from '@reten/observability';

const DEFAULTS: TenantLimitsRecord = { restRequestsPerMinute: null, ingestEventsPerSecond: null };

/**
 * Per-tenant limits cached in this process for `ttlMs` (a change made through another replica
 * applies here within that time; through this one at once). A database error means defaults.
 */
export class TenantLimitsCache {
  private readonly entries = new Map<string, { limits: TenantLimitsRecord; expiresAt: number }>();
  private warned = false;

  constructor(
    private readonly tenants: TenantStore,
    private readonly ttlMs: number,
    private readonly log: Logger,
  ) {}

  /** The tenant's limits when cached and fresh (no await on the hot path), else `get`. */
  limitsOf(tenantId: string): TenantLimitsRecord | Promise<TenantLimitsRecord> {
    const hit = this.entries.get(tenantId);
    if (hit && hit.expiresAt > Date.now()) return hit.limits;
    return this.get(tenantId);
  }

  async get(tenantId: string): Promise<TenantLimitsRecord> {
    const now = Date.now();
    const hit = this.entries.get(tenantId);
    if (hit && hit.expiresAt > now) return hit.limits;
    try {
      const limits = (await this.tenants.limits(tenantId)) ?? DEFAULTS;
      if (this.entries.size > 10_000) this.entries.clear();
      this.entries.set(tenantId, { limits, expiresAt: now + this.ttlMs });
      this.warned = false;
      return limits;
    } catch (err) {
      if (!this.warned) this.log.warn({ err }, 'tenant limits unreadable: using the defaults');
      this.warned = true;
      return hit?.limits ?? DEFAULTS;
    }
  }

  invalidate(tenantId: string): void {
    this.entries.delete(tenantId);
  }
}
