import type { Pool } from 'pg';
import type { Logger } from '@reten/observability';
import { apiKeyChannel, PgListener } from '@reten/store';
import type { ApiKeyRecord, ApiKeyStore } from './api-key-store';

export interface KeyCacheOptions {
  /** How long a looked-up key is trusted without a notification (safety net). */
  ttlMs: number;
  /** Most keys held; the cache is emptied when it would grow past this. */
  maxEntries: number;
  /** First pause before the revocation listener reconnects (doubled while it stays down). */
  reconnectDelayMs: number;
}

interface Entry {
  record: ApiKeyRecord | undefined;
  expiresAt: number;
}

/**
 * API key rows cached in this process, invalidated by the NOTIFY that `ApiKeyStore.revoke`
 * sends. Invariant: the cache is only consulted while the LISTEN connection is up, so a
 * revocation can never be missed (while it is down every lookup goes to PostgreSQL).
 */
export class KeyCache {
  private readonly entries = new Map<string, Entry>();
  private readonly listener: PgListener;
  private readonly waiters = new Map<string, Array<() => void>>();
  private readonly revokedListeners = new Set<(keyId: string) => void>();
  private readonly inflight = new Map<string, Promise<ApiKeyRecord | undefined>>();
  /** Bumped by every revocation heard and every listener loss: guards caching of reads. */
  private generation = 0;

  constructor(
    private readonly store: ApiKeyStore,
    pool: Pool,
    schema: string,
    private readonly options: KeyCacheOptions,
    private readonly log: Logger,
  ) {
    this.listener = new PgListener({
      name: 'api key revocations',
      connection: { pool },
      channels: {
        [apiKeyChannel(schema)]: (keyId) => {
          if (keyId) this.revoked(keyId);
        },
      },
      // revocations sent while nobody listened were missed: the cache starts empty again
      onListening: () => this.drop(),
      onLost: () => this.drop(),
      reconnectDelayMs: options.reconnectDelayMs,
      log,
    });
  }

  /** True while the LISTEN connection is up (only then is the cache consulted). */
  private get listening(): boolean {
    return this.listener.ready;
  }

  /** Starts listening for revocations; resolves once the first LISTEN was tried. */
  async start(): Promise<void> {
    await this.listener.start();
  }

  async stop(): Promise<void> {
    await this.listener.stop();
    this.drop();
    for (const resolve of [...this.waiters.values()].flat()) resolve();
    this.waiters.clear();
  }

  /** The key row (undefined when no such key), from the cache when it can be trusted. */
  async get(id: string): Promise<ApiKeyRecord | undefined> {
    if (this.listening) {
      const hit = this.entries.get(id);
      if (hit && hit.expiresAt > Date.now()) return hit.record;
    }
    // concurrent requests with the same uncached key share one query
    const pending = this.inflight.get(id);
    if (pending) return pending;
    const lookup = this.lookup(id).finally(() => {
      if (this.inflight.get(id) === lookup) this.inflight.delete(id);
    });
    this.inflight.set(id, lookup);
    return lookup;
  }

  private async lookup(id: string): Promise<ApiKeyRecord | undefined> {
    const wasListening = this.listening;
    const generation = this.generation;
    const record = await this.store.find(id);
    // a revocation heard while we read may postdate the row: then the row is not cached.
    // Unknown ids are never cached, so random guesses cannot fill the cache.
    if (record && wasListening && this.listening && generation === this.generation) {
      if (this.entries.size >= this.options.maxEntries) this.entries.clear();
      this.entries.set(id, { record, expiresAt: Date.now() + this.options.ttlMs });
    }
    return record;
  }

  /** Forgets a key here at once (the revoking replica does not wait for its own NOTIFY). */
  invalidate(id: string): void {
    this.generation += 1;
    this.entries.delete(id);
    // a lookup started before the revocation must not answer requests made after it
    this.inflight.delete(id);
  }

  /** Resolves when this process has received the revocation notification of `id`. */
  notified(id: string, timeoutMs: number): Promise<void> {
    if (!this.listening) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      timer.unref();
      const list = this.waiters.get(id) ?? [];
      list.push(done);
      this.waiters.set(id, list);
      function done() {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  /** Calls `listener(keyId)` for every revocation this process hears of; returns the remover. */
  onRevoked(listener: (keyId: string) => void): () => void {
    this.revokedListeners.add(listener);
    return () => this.revokedListeners.delete(listener);
  }

  private revoked(id: string): void {
    this.invalidate(id);
    for (const listener of this.revokedListeners) {
      try {
        listener(id);
      } catch (err) {
        this.log.error({ err, keyId: id }, 'api key revocation listener failed');
      }
    }
    const list = this.waiters.get(id);
    this.waiters.delete(id);
    for (const resolve of list ?? []) resolve();
  }

  private drop(): void {
    this.generation += 1;
    this.entries.clear();
    this.inflight.clear();
  }
}
