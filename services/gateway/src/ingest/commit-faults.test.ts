import { TcpProxy, createTestSchema, eventually } from '@reten/testing';
import type { TestSchema } from '@reten/testing';
import { startTestGateway } from '../test-fixture';
import type { TestGateway } from '../test-fixture';
import { api } from '../test-api';

/**
 * PostgreSQL connections cut at the worst moments: right after a statement went out, so the
 * server runs it while the gateway only sees the connection break.
 */
describe('ingest with PostgreSQL cut mid-statement (fault test)', () => {
  let schema: TestSchema;
  let proxy: TcpProxy;
  let gw: TestGateway;

  beforeAll(async () => {
    schema = await createTestSchema('commit faults');
    const pg = new URL(schema.databaseUrl);
    proxy = await TcpProxy.start(pg.hostname, Number(pg.port || 5432));
    const proxied = { ...schema, databaseUrl: proxy.proxiedUrl(schema.databaseUrl) };
    // a long lock timeout: a key freed before it ends was freed by the fix, not by the clock
    gw = await startTestGateway('commit faults', {
      schema: proxied,
      env: { IDEMPOTENCY_LOCK_TIMEOUT_SECONDS: '600' },
    });
    // warm the API key cache, so authentication does not need the database below
    expect((await api(gw, 'POST', '/v1.0/event/commit.warmup', {})).status).toBe(202);
  });

  afterAll(async () => {
    await gw?.close();
    await proxy?.close();
    await schema?.drop();
  });

  const stored = async (type: string) =>
    (
      await schema.pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM events WHERE event_type = $1',
        [type],
      )
    ).rows[0]!.n;

  const post = (type: string, key: string) =>
    api(gw, 'POST', `/v1.0/event/${type}`, { v: 1 }, { headers: { 'idempotency-key': key } });

  it('answers 202 for an event whose commit went through although the connection broke after it', async () => {
    const cut = proxy.cutAfterClientSends('reten_events_insert_batch');
    const answer = post('commit.unknown', 'commit-unknown-1');
    await cut;
    proxy.restore();
    const res = await answer;
    expect(res.status).toBe(202);
    expect(await stored('commit.unknown')).toBe(1);
    const again = await post('commit.unknown', 'commit-unknown-1');
    expect(again.status).toBe(202);
    expect(again.text).toBe(res.text);
    expect(await stored('commit.unknown')).toBe(1);
  });

  it('answers 503 service_unavailable (not 500) when claiming the Idempotency-Key fails, and the retry is not locked out', async () => {
    // the claim reaches the server and commits; its answer is lost with the connection
    const cut = proxy.cutAfterClientSends('INSERT INTO idempotency_keys');
    const answer = post('claim.cut', 'claim-cut-1');
    await cut;
    try {
      const res = await answer;
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ error: { code: 'service_unavailable', status: 503 } });
      // the claim commits on the server whatever the client saw; on a loaded host its commit
      // may still be under way when the 503 comes (the proxy waits at most 5 s for the server's
      // answer before it closes that side), and the gateway cannot free it while the proxy is cut
      await eventually(
        async () => {
          const left = await schema.pool.query<{ state: string }>(
            `SELECT state FROM idempotency_keys WHERE idempotency_key = 'claim-cut-1'`,
          );
          expect(left.rows).toEqual([{ state: 'in_progress' }]);
        },
        { timeoutMs: 15_000, intervalMs: 100 },
      );
    } finally {
      // (a failure above must not leave the proxy cut for the next test)
      proxy.restore();
    }
    // once the database is back, the same key is free: a 409 would mean a request still runs
    const retry = await eventually(
      async () => {
        const r = await post('claim.cut', 'claim-cut-1');
        expect(r.status).not.toBe(503);
        return r;
      },
      { timeoutMs: 10_000, intervalMs: 200 },
    );
    expect(retry.status).toBe(202);
    expect(await stored('claim.cut')).toBe(1);
  });

  it('frees the key of a failed claim for another gateway too, once the database is back', async () => {
    // a second replica, reaching PostgreSQL directly: it cannot know which requests the first runs
    const other = await startTestGateway('commit faults replica', {
      schema,
      vhost: gw.vhost,
      env: { IDEMPOTENCY_LOCK_TIMEOUT_SECONDS: '600' },
    });
    try {
      const postTo = (target: TestGateway) =>
        api(
          target,
          'POST',
          '/v1.0/event/claim.replica',
          { v: 1 },
          {
            headers: { 'idempotency-key': 'claim-replica-1' },
          },
        );
      const cut = proxy.cutAfterClientSends('INSERT INTO idempotency_keys');
      const answer = postTo(gw);
      await cut;
      expect((await answer).status).toBe(503);
      proxy.restore();
      // the first gateway gives its claim back in the background within seconds, far below the
      // lock timeout: until then the other replica may still see it running (409)
      const retry = await eventually(
        async () => {
          const r = await postTo(other);
          expect(r.status).toBe(202);
          return r;
        },
        { timeoutMs: 10_000, intervalMs: 250 },
      );
      expect(retry.status).toBe(202);
      expect(await stored('claim.replica')).toBe(1);
    } finally {
      await other.close();
    }
  });
});
