import type { DeliveryStore } from './delivery-store';
import type { Endpoint } from './endpoint';

interface Entry {
  loadedAt: number;
  endpoints: Promise<Endpoint[]>;
  /** The list once loaded. */
  loaded?: Endpoint[];
  /** Per event type, the endpoints that receive it (see `receivers`). */
  byType: Map<string, Endpoint[]>;
}

/** Event types remembered per tenant entry (a tenant with more starts over). */
const TYPES_MAX = 1_000;

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
    const created: Entry = { loadedAt: now, endpoints, byType: new Map() };
    this.entries.set(tenantId, created);
    try {
      created.loaded = await endpoints;
      return created.loaded;
    } catch (err) {
      if (this.entries.get(tenantId)?.endpoints === endpoints) this.entries.delete(tenantId);
      throw err;
    }
  }

  /**
   * The endpoints of a tenant that receive events of `type`: `select` picks them from the list
   * once per type and load (every message of a type asks the same). Synchronous when cached.
   */
  receivers(
    tenantId: string,
    type: string,
    select: (endpoints: Endpoint[]) => Endpoint[],
  ): Endpoint[] | Promise<Endpoint[]> {
    const entry = this.entries.get(tenantId);
    if (entry?.loaded === undefined || Date.now() - entry.loadedAt >= this.ttlMs) {
      return this.forTenant(tenantId).then(select);
    }
    let picked = entry.byType.get(type);
    if (picked === undefined) {
      if (entry.byType.size >= TYPES_MAX) entry.byType.clear();
      picked = select(entry.loaded);
      entry.byType.set(type, picked);
    }
    return picked;
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
