import { createTestSchema, silentLogger } from '@reten/testing';
import type { TestSchema } from '@reten/testing';
import type { ApiKeyRecord, ApiKeyStore } from './api-key-store';
import { KeyCache } from './key-cache';

const RECORD: ApiKeyRecord = {
  id: 'ak_0123456789abcdef',
  tenantId: 'acme',
  name: 'k',
  scopes: ['admin'],
  keyHash: Buffer.alloc(32),
  createdAt: new Date(0),
  lastUsedAt: null,
  revokedAt: null,
};

/** A store whose reads the test answers by hand, to order them against revocations. */
function manualStore() {
  const reads: Array<(r: ApiKeyRecord | undefined) => void> = [];
  const store = {
    find: () => new Promise<ApiKeyRecord | undefined>((resolve) => reads.push(resolve)),
  } as unknown as ApiKeyStore;
  return { store, reads };
}

describe('KeyCache (revocation-safe key cache)', () => {
  let schema: TestSchema;

  beforeAll(async () => {
    schema = await createTestSchema('key cache', { migrate: false });
  });

  afterAll(async () => {
    await schema?.drop();
  });

  async function cacheWith(store: ApiKeyStore): Promise<KeyCache> {
    const options = { ttlMs: 60_000, maxEntries: 100, reconnectDelayMs: 100 };
    const cache = new KeyCache(store, schema.pool, schema.schema, options, silentLogger());
    await cache.start();
    return cache;
  }

  it('answers repeated and concurrent lookups of a key with one read while it listens', async () => {
    const { store, reads } = manualStore();
    const cache = await cacheWith(store);
    try {
      const both = Promise.all([cache.get(RECORD.id), cache.get(RECORD.id)]);
      expect(reads).toHaveLength(1);
      reads[0]!(RECORD);
      expect(await both).toEqual([RECORD, RECORD]);
      expect(await cache.get(RECORD.id)).toEqual(RECORD);
      expect(reads).toHaveLength(1);
    } finally {
      await cache.stop();
    }
  });

  it('does not cache a row whose read overlapped a revocation, nor let later requests join it', async () => {
    const { store, reads } = manualStore();
    const cache = await cacheWith(store);
    try {
      const before = cache.get(RECORD.id);
      cache.invalidate(RECORD.id); // the revocation is heard while the read is in flight
      const after = cache.get(RECORD.id);
      expect(reads).toHaveLength(2); // the later request did not join the earlier read

      reads[1]!({ ...RECORD, revokedAt: new Date() });
      expect((await after)?.revokedAt).toBeInstanceOf(Date);
      reads[0]!(RECORD); // the earlier read saw the row before the revocation, and ends last
      expect((await before)?.revokedAt).toBeNull();

      // what is cached is the revoked row, not the stale one that arrived after it
      expect((await cache.get(RECORD.id))?.revokedAt).toBeInstanceOf(Date);
      expect(reads).toHaveLength(2);
    } finally {
      await cache.stop();
    }
  });

  it('does not cache unknown key ids', async () => {
    const { store, reads } = manualStore();
    const cache = await cacheWith(store);
    try {
      const first = cache.get('ak_ffffffffffffffff');
      reads[0]!(undefined);
      expect(await first).toBeUndefined();
      const second = cache.get('ak_ffffffffffffffff');
      expect(reads).toHaveLength(2);
      reads[1]!(undefined);
      await second;
    } finally {
      await cache.stop();
    }
  });
});
