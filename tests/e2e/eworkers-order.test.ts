import path from 'node:path';
import { createTestSchema, createTestVhost, eventually } from '@reten/testing';
import type { ServiceProcess, TestSchema, TestVhost } from '@reten/testing';
import { api } from '../../services/gateway/src/test-api';
import { createApiKey, startGatewayProcess } from './gateway-process';
import type { GatewayProcess } from './gateway-process';
import { startEworkerProcess } from './eworker-process';

jest.setTimeout(180_000);

const TYPE = 'test.ordered';
const TOTAL = 1000;
const SCRIPT = path.join(__dirname, 'fixtures', 'order-eworker.js');

let schema: TestSchema;
let vhost: TestVhost;
let gateway: GatewayProcess;
let gw: { url: string; apiKey: string };
const replicas: ServiceProcess[] = [];

async function startReplica(): Promise<ServiceProcess> {
  const replica = await startEworkerProcess(
    SCRIPT,
    { schema, vhost },
    { EWORKER_PREFETCH: '100', EWORKER_MAX_BATCH: '50', TEST_EWORKER_TYPE: TYPE },
  );
  replicas.push(replica);
  return replica;
}

async function seen(): Promise<{ n: number; pid: number }[]> {
  const res = await schema.pool.query<{ n: number; pid: number }>(
    'SELECT n, pid FROM order_seen ORDER BY id',
  );
  return res.rows;
}

beforeAll(async () => {
  // every part a real process: the gateway (with its relay) and the eworker replicas
  schema = await createTestSchema('eworkers order');
  vhost = await createTestVhost('eworkers order');
  gateway = await startGatewayProcess(schema, vhost);
  gw = { url: gateway.url, apiKey: await createApiKey(schema, 'acme') };
  await schema.pool.query(
    'CREATE TABLE order_seen (id bigint GENERATED ALWAYS AS IDENTITY, n int, event_id text, pid int)',
  );
});

afterAll(async () => {
  for (const r of replicas) await r.kill('SIGKILL');
  await gateway?.process.kill('SIGTERM');
  await schema?.drop();
  await vhost?.drop();
});

describe('in-order processing by an eworker with two replicas', () => {
  it('processes 1,000 events of one type in exactly the order they were accepted, across a kill -9 of the active replica, its restart and a graceful stop of the next active one', async () => {
    const first = await startReplica();
    const second = await startReplica();
    const pids = new Map([
      [first.child.pid, first],
      [second.child.pid, second],
    ]);

    /** The replica that handled the newest event: the active one. */
    const active = async (): Promise<number> => {
      const rows = await eventually(async () => {
        const r = await seen();
        expect(r.length).toBeGreaterThan(0);
        return r;
      });
      return rows[rows.length - 1]!.pid;
    };

    let killedPid: number | undefined;
    let stoppedPid: number | undefined;
    let stoppedExit: Promise<number | null> | undefined;
    let restarted: Promise<ServiceProcess> | undefined;
    for (let n = 0; n < TOTAL; n += 1) {
      // each event is sent only after the previous one got its 202
      const res = await api(gw, 'POST', `/v1.0/event/${TYPE}`, { n });
      expect(res.status).toBe(202);
      if (n === Math.floor(TOTAL / 3)) {
        // kill the replica that is processing right now, in the middle of the stream
        killedPid = await active();
        const victim = pids.get(killedPid);
        expect(victim).toBeDefined();
        await victim!.kill('SIGKILL');
        restarted = startReplica().then((r) => {
          pids.set(r.child.pid, r);
          return r;
        });
      }
      if (n === Math.floor((2 * TOTAL) / 3)) {
        // the standby took over: stop it gracefully (SIGTERM) while events keep coming
        await restarted;
        stoppedPid = await eventually(async () => {
          const pid = await active();
          expect(pid).not.toBe(killedPid);
          return pid;
        });
        stoppedExit = pids.get(stoppedPid)!.kill('SIGTERM');
      }
    }
    expect(await stoppedExit).toBe(0);

    const rows = await eventually(
      async () => {
        const r = await seen();
        expect(r.length).toBeGreaterThanOrEqual(TOTAL);
        return r;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    // exactly once, in exactly the order of acceptance
    expect(rows.map((r) => r.n)).toEqual([...Array(TOTAL).keys()]);
    // the standby took over after the kill: events were handled by more than one process
    const handlers = new Set(rows.map((r) => r.pid));
    expect(handlers.size).toBe(3);
    expect(rows.some((r) => r.pid === killedPid)).toBe(true);
    expect(rows.some((r) => r.pid === stoppedPid)).toBe(true);
    const marks = await schema.pool.query<{ processed: number; failed: number }>(
      `SELECT count(*) FILTER (WHERE status = 'processed')::int AS processed,
              count(*) FILTER (WHERE status <> 'processed')::int AS failed
         FROM eworker_marks WHERE eworker = 'order-test' AND tenant_id = 'acme'`,
    );
    expect(marks.rows[0]).toEqual({ processed: TOTAL, failed: 0 });
  });
});
