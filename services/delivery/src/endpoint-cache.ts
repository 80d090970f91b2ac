import type { DeliveryStore } from './delivery-store';
import type { Endpoint } from './endpoint';

interface Entry {
  loadedAt: number;
  endpoints: Promise<Endpoint[]>;
}

/**
 * Endpoints per tenant, cached for `ttlMs`; `invalidate(tenant)` (from the endpoints
 * table's NOTIFY) drops a tenant at once so changes apply to the next message.
 */
export class EndpointCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly store: DeliveryStore,
    private readonly ttlMs: number,
  ) {}

  async forTenant(tenantId: string): Promise<Endpoint[]> {
    const now = Date.now();
    const entry = this.entries.get(tenantId);
    if (entry && now - entry.loadedAt < this.ttlMs) return entry.endpoints;
    const endpoints = this.store.endpointsOf(tenantId);
    this.entries.set(tenantId, { loadedAt: now, endpoints });
    try {
      return await endpoints;
    } catch (err) {
      if (this.entries.get(tenantId)?.endpoints === endpoints) this.entries.delete(tenantId);
      throw err;
    }
  }

  /** One endpoint; a miss reloads the tenant once (it may be newer than the cache). */
  async get(tenantId: string, endpointId: string): Promise<Endpoint | undefined> {
    const cached = (await this.forTenant(tenantId)).find((e) => e.id === endpointId);
    if (cached) return cached;
    this.invalidate(tenantId);
    return (await this.forTenant(tenantId)).find((e) => e.id === endpointId);
  }

  invalidate(tenantId: string): void {
    this.entries.delete(tenantId);
  }

  clear(): void {
    this.entries.clear();
  }
}
