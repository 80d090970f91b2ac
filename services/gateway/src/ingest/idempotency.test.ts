import { SCOPES } from '@reten/auth';
import { eventually } from '@reten/testing';
import { startTestGateway } from '../test-fixture';
import type { TestGateway } from '../test-fixture';
import { api, eventIdOf } from '../test-api';

describe('Idempotency-Key on POST', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway('idempotency key');
  });

  afterAll(async () => {
    await gw?.close();
  });

  async function rowsOf(eventType: string): Promise<number> {
    const res = await gw.schema.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM events WHERE event_type = $1',
      [eventType],
    );
    return res.rows[0]!.n;
  }

  it.each([
    ['EVCI', '/v1.0/event/idem.evci', { a: 1, b: [1, 2] }],
    ['REST', '/api/v1/events', { event_type: 'idem.rest', data: { a: 1 } }],
  ])(
    '%s: same key and body answers the first response again, marked replayed, stored once',
    async (name, path, body) => {
      const headers = { 'idempotency-key': `"key-${name}"` };
      const first = await api(gw, 'POST', path, body, { headers });
      const again = await api(gw, 'POST', path, body, { headers });

      expect(first.status).toBe(202);
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      expect(again.status).toBe(202);
      expect(again.body).toEqual(first.body);
      // the first answer byte for byte, not a re-serialisation of it
      expect(again.text).toBe(first.text);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(await rowsOf(name === 'EVCI' ? 'idem.evci' : 'idem.rest')).toBe(1);
    },
  );

  it('same key with another body answers 422 idempotency_key_reused and stores nothing', async () => {
    const headers = { 'idempotency-key': 'reuse-1' };
    expect((await api(gw, 'POST', '/v1.0/event/idem.reuse', { v: 1 }, { headers })).status).toBe(
      202,
    );
    const other = await api(gw, 'POST', '/v1.0/event/idem.reuse', { v: 2 }, { headers });
    expect(other.status).toBe(422);
    expect(other.body).toMatchObject({ error: { code: 'idempotency_key_reused', status: 422 } });
    expect(await rowsOf('idem.reuse')).toBe(1);
  });

  it('same key while the first request is still being stored answers 409 idempotency_key_in_progress', async () => {
    const headers = { 'idempotency-key': 'in-flight-1' };
    const blocker = await gw.schema.pool.connect();
    let first: ReturnType<typeof api> | undefined;
    try {
      // hold inserts into events so the first request stays in flight after claiming its key
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE events IN EXCLUSIVE MODE');
      first = api(gw, 'POST', '/v1.0/event/idem.inflight', { v: 1 }, { headers });
      await eventually(async () => {
        const key = await gw.schema.pool.query(
          'SELECT state FROM idempotency_keys WHERE idempotency_key = $1',
          ['in-flight-1'],
        );
        expect(key.rows).toEqual([{ state: 'in_progress' }]);
      });

      const second = await api(gw, 'POST', '/v1.0/event/idem.inflight', { v: 1 }, { headers });
      expect(second.status).toBe(409);
      expect(second.body).toMatchObject({
        error: { code: 'idempotency_key_in_progress', status: 409 },
      });
    } finally {
      await blocker.query('COMMIT');
      blocker.release();
    }
    const firstRes = await first;
    const id = eventIdOf(firstRes);
    const third = await api(gw, 'POST', '/v1.0/event/idem.inflight', { v: 1 }, { headers });
    expect(third.status).toBe(202);
    expect(third.body).toEqual({ event_id: id });
    expect(await rowsOf('idem.inflight')).toBe(1);
  });

  it('a key left in progress by a request that died is taken over after IDEMPOTENCY_LOCK_TIMEOUT_SECONDS', async () => {
    // what a gateway killed between claiming a key and committing leaves behind
    await gw.schema.pool.query(
      `INSERT INTO idempotency_keys (tenant_id, idempotency_key, request_hash, state, locked_at, expires_at)
       VALUES ($1, 'orphan-1', 'whatever', 'in_progress', now() - interval '2 minutes', now() + interval '1 day')`,
      [gw.tenantId],
    );
    const res = await api(
      gw,
      'POST',
      '/v1.0/event/idem.orphan',
      { v: 1 },
      {
        headers: { 'idempotency-key': 'orphan-1' },
      },
    );
    expect(res.status).toBe(202);
    const again = await api(
      gw,
      'POST',
      '/v1.0/event/idem.orphan',
      { v: 1 },
      {
        headers: { 'idempotency-key': 'orphan-1' },
      },
    );
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.text).toBe(res.text);
    expect(await rowsOf('idem.orphan')).toBe(1);
  });

  it('an expired key is forgotten: the same key with another body is a new request', async () => {
    const headers = { 'idempotency-key': 'expired-1' };
    expect((await api(gw, 'POST', '/v1.0/event/idem.expired', { v: 1 }, { headers })).status).toBe(
      202,
    );
    await gw.schema.pool.query(
      `UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE idempotency_key = 'expired-1'`,
    );
    const second = await api(gw, 'POST', '/v1.0/event/idem.expired', { v: 2 }, { headers });
    expect(second.status).toBe(202);
    expect(second.headers.get('idempotent-replayed')).toBeNull();
    expect(await rowsOf('idem.expired')).toBe(2);
  });

  it('a key is per tenant: another tenant using the same key and body gets its own event', async () => {
    const otherKey = await gw.createKey('idem-other-tenant', [...SCOPES]);
    const headers = { 'idempotency-key': 'shared-1' };
    const mine = await api(gw, 'POST', '/v1.0/event/idem.tenant', { v: 1 }, { headers });
    const theirs = await api(
      gw,
      'POST',
      '/v1.0/event/idem.tenant',
      { v: 1 },
      {
        headers,
        auth: otherKey,
      },
    );
    expect(theirs.status).toBe(202);
    expect(theirs.headers.get('idempotent-replayed')).toBeNull();
    expect(eventIdOf(theirs)).not.toBe(eventIdOf(mine));
    expect(await rowsOf('idem.tenant')).toBe(2);
  });

  it('a key is per endpoint: the same key on another path is another request (422)', async () => {
    const headers = { 'idempotency-key': 'path-1' };
    expect((await api(gw, 'POST', '/v1.0/event/idem.p1', { v: 1 }, { headers })).status).toBe(202);
    const other = await api(gw, 'POST', '/v1.0/event/idem.p2', { v: 1 }, { headers });
    expect(other.status).toBe(422);
    expect(await rowsOf('idem.p2')).toBe(0);
  });

  it('answers 422 naming headers.idempotency-key for an empty key or one over 255 characters', async () => {
    for (const key of ['x'.repeat(256), '""']) {
      const res = await api(
        gw,
        'POST',
        '/v1.0/event/idem.badkey',
        {},
        {
          headers: { 'idempotency-key': key },
        },
      );
      expect(res.status).toBe(422);
      expect(res.body).toMatchObject({ error: { details: [{ path: 'headers.idempotency-key' }] } });
    }
    expect(await rowsOf('idem.badkey')).toBe(0);
  });
});
