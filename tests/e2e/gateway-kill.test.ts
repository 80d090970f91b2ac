import { EventTap, createTestSchema, createTestVhost, eventually } from '@reten/testing';
import type { TestSchema, TestVhost } from '@reten/testing';
import { api } from '../../services/gateway/src/test-api';
import { createApiKey, startGatewayProcess } from './gateway-process';
import type { GatewayProcess } from './gateway-process';

const PRODUCERS = 8;
const KILL_AFTER_ACCEPTED = 400;

describe('gateway killed with SIGKILL in the middle of a load (kill -9 test)', () => {
  let schema: TestSchema;
  let vhost: TestVhost;
  let tap: EventTap;
  let apiKey: string;
  const gateways: GatewayProcess[] = [];

  beforeAll(async () => {
    schema = await createTestSchema('e2e gateway kill');
    vhost = await createTestVhost('e2e gateway kill');
    apiKey = await createApiKey(schema);
    tap = await EventTap.open(vhost.url);
  });

  afterAll(async () => {
    for (const g of gateways) await g.process.kill('SIGKILL');
    await tap?.close();
    await schema?.drop();
    await vhost?.drop();
  });

  it('every event that got a 202 is in the database after restart and gets published, in each producer order', async () => {
    const first = await startGatewayProcess(schema, vhost);
    gateways.push(first);
    const gw = { url: first.url, apiKey };
    const acceptedBy: string[][] = Array.from({ length: PRODUCERS }, () => []);
    let accepted = 0;
    let failed = 0;
    let killed = false;

    const producers = acceptedBy.map(async (ids, p) => {
      for (let i = 0; !killed; i += 1) {
        try {
          const res = await api(gw, 'POST', '/v1.0/event/kill.test', { p, i });
          if (res.status !== 202) throw new Error(`answered ${res.status}`);
          ids.push((res.body as { event_id: string }).event_id);
          accepted += 1;
        } catch {
          // the process died under this request: no 202, so no promise was made
          failed += 1;
          return;
        }
      }
    });
    await eventually(() => expect(accepted).toBeGreaterThanOrEqual(KILL_AFTER_ACCEPTED), {
      timeoutMs: 30_000,
    });
    await first.process.kill('SIGKILL');
    killed = true;
    await Promise.all(producers);
    expect(failed).toBeGreaterThan(0);
    const all = acceptedBy.flat();

    // durable: every 202 is a committed row, with or without the process
    const stored = await schema.pool.query<{ event_id: string }>(
      'SELECT event_id FROM events WHERE event_id = ANY($1::text[])',
      [all],
    );
    expect(stored.rowCount).toBe(all.length);

    const second = await startGatewayProcess(schema, vhost);
    gateways.push(second);
    await eventually(
      () => {
        const published = new Set(
          tap.uniqueMessages().map((m) => (m.body as { event_id: string }).event_id),
        );
        expect(all.filter((id) => !published.has(id))).toEqual([]);
      },
      { timeoutMs: 30_000 },
    );
    const order = tap
      .uniqueMessages()
      .map((m) => m.body as { event_id: string; data: { p: number } });
    for (const [p, ids] of acceptedBy.entries()) {
      const mine = new Set(ids);
      expect(
        order.filter((m) => m.data.p === p && mine.has(m.event_id)).map((m) => m.event_id),
      ).toEqual(ids);
    }
    // the relay marks a round published after the broker confirmed it: the mark can land just
    // after a consumer saw the messages (and events committed without their 202 go out too)
    await eventually(async () => {
      const left = await schema.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox');
      expect(left.rows[0]!.n).toBe(0);
    });
  });
});

describe('gateway stopped with SIGTERM in the middle of a load', () => {
  let schema: TestSchema;
  let vhost: TestVhost;
  let tap: EventTap;
  let apiKey: string;

  beforeAll(async () => {
    schema = await createTestSchema('e2e gateway sigterm');
    vhost = await createTestVhost('e2e gateway sigterm');
    apiKey = await createApiKey(schema);
    tap = await EventTap.open(vhost.url);
  });

  afterAll(async () => {
    await tap?.close();
    await schema?.drop();
    await vhost?.drop();
  });

  it('finishes in-flight requests, publishes every accepted event and exits 0', async () => {
    // a long drain deadline: stopping must not wait for it when nothing is in flight
    const gateway = await startGatewayProcess(schema, vhost, {
      SHUTDOWN_DRAIN_TIMEOUT_MS: '30000',
    });
    const gw = { url: gateway.url, apiKey };
    const accepted: string[] = [];
    const statuses = new Set<number>();
    let stopping = false;
    const producers = Array.from({ length: PRODUCERS }, async (_, p) => {
      for (let i = 0; !stopping; i += 1) {
        try {
          const res = await api(gw, 'POST', '/v1.0/event/sigterm.test', { p, i });
          statuses.add(res.status);
          if (res.status === 202) accepted.push((res.body as { event_id: string }).event_id);
        } catch {
          return; // the server stopped accepting connections
        }
      }
    });
    await eventually(() => expect(accepted.length).toBeGreaterThanOrEqual(200), {
      timeoutMs: 30_000,
    });
    const signalled = Date.now();
    const exited = gateway.process.kill('SIGTERM');
    stopping = true;
    await Promise.all(producers);
    expect(await exited).toBe(0);
    // idle keep-alive connections are closed at once, not held until the drain deadline
    expect(Date.now() - signalled).toBeLessThan(15_000);
    // a request is answered 202 or refused at the door, never failed half-way with a 5xx
    expect([...statuses].filter((s) => s !== 202)).toEqual([]);
    const stored = await schema.pool.query<{ event_id: string; published_at: Date | null }>(
      `SELECT event_id, reten_published_at(stream_position, published_at) AS published_at
         FROM events WHERE event_id = ANY($1::text[])`,
      [accepted],
    );
    expect(stored.rowCount).toBe(accepted.length);
    // what the relay had not published before stopping waits in the outbox for the next one
    const unpublished = stored.rows.filter((r) => r.published_at === null).map((r) => r.event_id);
    await eventually(() => {
      const published = new Set(
        tap.uniqueMessages().map((m) => (m.body as { event_id: string }).event_id),
      );
      expect(accepted.filter((id) => !published.has(id)).sort()).toEqual(unpublished.sort());
    });
  });
});
