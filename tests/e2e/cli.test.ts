import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  createTestSchema,
  createTestVhost,
  eventually,
  freePort,
  webhookReceiver,
} from '@reten/testing';
import type { TestSchema, TestVhost, WebhookReceiver } from '@reten/testing';
import { api, eventIdOf } from '../../services/gateway/src/test-api';
import { createApiKey, startGatewayProcess } from './gateway-process';
import type { GatewayProcess } from './gateway-process';
import { deliveryRedisPrefix, startDeliveryProcess } from './delivery-process';
import type { DeliveryProcess } from './delivery-process';
import { runCli } from './cli-process';
import type { CliResult } from './cli-process';

jest.setTimeout(120_000);

let schema: TestSchema;
let vhost: TestVhost;
let gateway: GatewayProcess;
let delivery: DeliveryProcess;
let receiver: WebhookReceiver;
let env: Record<string, string>;

beforeAll(async () => {
  schema = await createTestSchema('e2e cli');
  vhost = await createTestVhost('e2e cli');
  const apiKey = await createApiKey(schema);
  gateway = await startGatewayProcess(schema, vhost, { WEBHOOK_ALLOW_PRIVATE: 'true' });
  delivery = await startDeliveryProcess(schema, vhost, deliveryRedisPrefix('e2e cli'));
  receiver = await webhookReceiver();
  env = { RETEN_API_URL: gateway.url, RETEN_API_KEY: apiKey };
});

afterAll(async () => {
  await delivery?.process.kill('SIGTERM');
  await gateway?.process.kill('SIGTERM');
  await receiver?.close();
  await schema?.drop();
  await vhost?.drop();
});

const reten = (args: string[], extraEnv: Record<string, string> = {}) =>
  runCli(args, { env: { ...env, ...extraEnv } });

/** stdout of a command that must succeed (its stderr in the failure message otherwise). */
function ok(result: CliResult): string {
  if (result.code !== 0) throw new Error(`exit ${result.code}: ${result.stderr}${result.stdout}`);
  return result.stdout;
}

const json = <T>(result: CliResult): T => JSON.parse(ok(result)) as T;

it('send prints the event id, and events get shows that event with its data', async () => {
  const id = ok(await reten(['send', 'order.created', '--data', '{"order_id":"ord_1"}'])).trim();
  expect(id).toMatch(/^evt_[0-9A-Z]{26}$/);

  const human = ok(await reten(['events', 'get', id]));
  expect(human).toContain(id);
  expect(human).toMatch(/type\s+order\.created/);
  expect(human).toContain('"order_id": "ord_1"');

  const event = json<{ event_id: string; data: unknown; revision: number }>(
    await reten(['events', 'get', id, '--json']),
  );
  expect(event).toMatchObject({ event_id: id, revision: 1, data: { order_id: 'ord_1' } });
});

it('send reads --data-file (stdin with -), sends the ordering key header, and honours --idempotency-key', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'reten-cli-'));
  const file = path.join(dir, 'data.json');
  writeFileSync(file, '{"from":"file"}');
  const fromFile = ok(await reten(['send', 'cli.file', '--data-file', file, '--key', 'cust_1']));
  const fromStdin = ok(
    await runCli(['send', 'cli.file', '--data-file', '-'], { env, stdin: '{"from":"stdin"}' }),
  );
  const first = json<{ event_id: string }>(
    await reten(['send', 'cli.idem', '-d', '{"n":1}', '-i', 'idem-1', '--json']),
  );
  const again = json<{ event_id: string }>(
    await reten(['send', 'cli.idem', '-d', '{"n":1}', '-i', 'idem-1', '--json']),
  );
  expect(again.event_id).toBe(first.event_id);

  const list = json<{ data: { event_id: string; data: unknown }[] }>(
    await reten(['events', 'list', '--type', 'cli.file', '--json']),
  );
  expect(list.data.map((e) => e.data)).toEqual([{ from: 'stdin' }, { from: 'file' }]);
  expect(list.data.map((e) => e.event_id)).toEqual([fromStdin.trim(), fromFile.trim()]);

  // the key is the event's ordering key: stored and shown; an event sent without has none
  const keyed = json<{ ordering_key: string | null }>(
    await reten(['events', 'get', fromFile.trim(), '--json']),
  );
  expect(keyed.ordering_key).toBe('cust_1');
  const keyless = json<{ ordering_key: string | null }>(
    await reten(['events', 'get', fromStdin.trim(), '--json']),
  );
  expect(keyless.ordering_key).toBeNull();
  const refused = await reten(['send', 'cli.file', '-d', '{}', '--key', 'two words']);
  expect(refused.code).toBe(3);
  expect(refused.stderr).toContain('validation_failed (HTTP 422)');
  expect(refused.stderr).toContain('headers.reten-ordering-key');
});

it('events get shows the ordering key and the trace context the event was accepted under; events list shows the key', async () => {
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const producer = `00-${traceId}-00f067aa0ba902b7-01`;
  const id = eventIdOf(
    await api(
      { url: gateway.url, apiKey: env.RETEN_API_KEY ?? '' },
      'POST',
      '/api/v1/events',
      { event_type: 'cli.traced', data: { n: 1 }, ordering_key: 'cust_9' },
      { headers: { traceparent: producer, tracestate: 'producer=1' } },
    ),
  );

  const event = json<{ ordering_key: string; traceparent: string; tracestate: string }>(
    await reten(['events', 'get', id, '--json']),
  );
  // stored under the gateway's ingest span: the producer's trace, another span
  expect(event.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
  expect(event.traceparent).not.toBe(producer);
  expect(event).toMatchObject({ ordering_key: 'cust_9', tracestate: 'producer=1' });

  const human = ok(await reten(['events', 'get', id]));
  expect(human).toMatch(/^ordering key\s+cust_9$/m);
  expect(human).toMatch(new RegExp(`^trace id\\s+${traceId}$`, 'm'));
  expect(human).toMatch(new RegExp(`^traceparent\\s+${event.traceparent}$`, 'm'));
  expect(human).toMatch(/^tracestate\s+producer=1$/m);

  // a keyless event shows none
  const keyless = ok(await reten(['send', 'cli.traced', '-d', '{"n":2}'])).trim();
  expect(ok(await reten(['events', 'get', keyless]))).toMatch(/^ordering key\s+-$/m);

  const rows = ok(await reten(['events', 'list', '--type', 'cli.traced']))
    .trim()
    .split('\n');
  expect(rows[0]).toMatch(/^EVENT ID\s+TYPE\s+REV\s+KEY\s+TIMESTAMP\s+DATA$/);
  expect(rows.slice(1).map((r) => r.split(/\s+/).slice(0, 4))).toEqual([
    [keyless, 'cli.traced', '1', '-'],
    [id, 'cli.traced', '1', 'cust_9'],
  ]);
});

it('events list filters by type wildcard, time and limit, prints a table, and pages with --cursor', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 3; i += 1) {
    ids.push(ok(await reten(['send', `page.t${i}`, '-d', JSON.stringify({ i })])).trim());
  }
  const table = ok(await reten(['events', 'list', '--type', 'page.*', '--since', '10m']));
  const rows = table.trim().split('\n');
  expect(rows[0]).toMatch(/^EVENT ID\s+TYPE\s+REV\s+KEY\s+TIMESTAMP\s+DATA$/);
  expect(rows.slice(1).map((r) => r.split(/\s+/)[0])).toEqual([...ids].reverse());

  const page1 = await reten(['events', 'list', '-t', 'page.*', '-n', '2', '--json']);
  const first = json<{ data: { event_id: string }[]; next_cursor: string }>(page1);
  expect(first.data.map((e) => e.event_id)).toEqual([ids[2], ids[1]]);
  const second = json<{ data: { event_id: string }[]; next_cursor: null }>(
    await reten(['events', 'list', '-t', 'page.*', '-n', '2', '-c', first.next_cursor, '--json']),
  );
  expect(second).toEqual({
    data: [expect.objectContaining({ event_id: ids[0] })],
    next_cursor: null,
  });

  const none = ok(
    await reten(['events', 'list', '-t', 'page.*', '--since', '2999-01-01T00:00:00Z']),
  );
  expect(none.trim()).toBe('(none)');
});

it('keys create prints the key once, list shows it without the secret, revoke makes it refused', async () => {
  const created = json<{ id: string; key: string; scopes: string[] }>(
    await reten([
      'keys',
      'create',
      '--name',
      'cli test',
      '--scopes',
      'events:read,events:write',
      '--json',
    ]),
  );
  expect(created.key).toMatch(/^rtn_/);
  expect(created.scopes).toEqual(['events:read', 'events:write']);

  const table = ok(await reten(['keys', 'list']));
  const row = table.split('\n').find((l) => l.startsWith(created.id));
  expect(row).toMatch(/cli test\s+events:read,events:write/);
  expect(table).not.toContain(created.key);

  ok(await reten(['send', 'cli.key', '-d', '{}'], { RETEN_API_KEY: created.key }));
  expect(ok(await reten(['keys', 'revoke', created.id])).trim()).toBe(`revoked ${created.id}`);
  const refused = await reten(['send', 'cli.key', '-d', '{}'], { RETEN_API_KEY: created.key });
  expect(refused.code).toBe(3);
  expect(refused.stderr).toMatch(/^error: unauthorized \(HTTP 401\): /);
});

it('webhooks create, list, test, deliveries, retry and replay drive a real endpoint', async () => {
  receiver.respond({ status: 204 });
  const created = json<{ id: string; secret: string }>(
    await reten([
      'webhooks',
      'create',
      '--url',
      receiver.url('/cli'),
      '--types',
      'hook.*',
      '--json',
    ]),
  );
  expect(created.secret).toMatch(/^whsec_/);
  expect(ok(await reten(['webhooks', 'list']))).toMatch(
    new RegExp(
      `${created.id}\\s+${receiver.url('/cli').replace(/[.?]/g, '\\$&')}\\s+hook\\.\\*\\s+yes`,
    ),
  );

  const testEventId = ok(await reten(['webhooks', 'test', created.id])).trim();
  expect(testEventId).toMatch(/^evt_/);
  await eventually(() => expect(receiver.requestsTo('/cli')).toHaveLength(1), {
    timeoutMs: 20_000,
  });

  const deliveries = await eventually(async () => {
    const list = json<{ data: { id: string; event_id: string; status: string }[] }>(
      await reten(['webhooks', 'deliveries', created.id, '--json']),
    );
    expect(list.data).toEqual([
      expect.objectContaining({ event_id: testEventId, status: 'succeeded' }),
    ]);
    return list.data;
  });
  const table = ok(await reten(['webhooks', 'deliveries', created.id, '--status', 'succeeded']));
  expect(table).toMatch(
    new RegExp(
      `${deliveries[0]!.id}\\s+${testEventId}\\s+reten\\.test\\s+succeeded\\s+1\\s+204\\s+\\d+ ms`,
    ),
  );

  const retried = ok(await reten(['webhooks', 'retry', deliveries[0]!.id]));
  expect(retried.trim()).toBe(`${deliveries[0]!.id} pending`);
  await eventually(() => expect(receiver.requestsTo('/cli')).toHaveLength(2), {
    timeoutMs: 20_000,
  });

  ok(await reten(['send', 'hook.a', '-d', '{"n":1}']));
  await eventually(() => expect(receiver.requestsTo('/cli')).toHaveLength(3), {
    timeoutMs: 20_000,
  });
  const replay = json<{ queued: number }>(
    await reten(['webhooks', 'replay', created.id, '--since', '1h', '--json']),
  );
  expect(replay.queued).toBeGreaterThanOrEqual(1);
  await eventually(() => expect(receiver.requestsTo('/cli').length).toBeGreaterThanOrEqual(4), {
    timeoutMs: 20_000,
  });
});

it('finds the local stack key in .reten/dev-api-key above the working directory', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'reten-clone-'));
  mkdirSync(path.join(root, '.reten'));
  writeFileSync(path.join(root, '.reten', 'dev-api-key'), `${env.RETEN_API_KEY}\n`);
  const deep = path.join(root, 'a', 'b');
  mkdirSync(deep, { recursive: true });
  const result = await runCli(['send', 'cli.devkey'], {
    env: { RETEN_API_URL: gateway.url },
    cwd: deep,
  });
  expect(ok(result).trim()).toMatch(/^evt_/);

  const nowhere = await runCli(['send', 'cli.devkey'], { env: { RETEN_API_URL: gateway.url } });
  expect(nowhere.code).toBe(2);
  expect(nowhere.stderr).toContain('no API key');
});

it('exits 3 with the API error code on a bad key, 2 on a bad command line, 4 when the API is unreachable', async () => {
  const badKey = await reten(['events', 'list'], { RETEN_API_KEY: 'rtn_not_a_real_key' });
  expect(badKey.code).toBe(3);
  expect(badKey.stderr).toMatch(/^error: unauthorized \(HTTP 401\): .+/);
  expect(badKey.stdout).toBe('');

  const invalid = await reten(['send', 'bad type!', '-d', '{}']);
  expect(invalid.code).toBe(3);
  expect(invalid.stderr).toMatch(/^error: validation_failed \(HTTP 422\): /);
  expect(invalid.stderr).toContain('params.type');

  const notFound = await reten(['events', 'get', 'evt_01J00000000000000000000000']);
  expect(notFound.code).toBe(3);
  expect(notFound.stderr).toMatch(/^error: not_found \(HTTP 404\)/);

  const badJson = await reten(['send', 'x.y', '--data', '{nope']);
  expect(badJson.code).toBe(2);
  expect(badJson.stderr).toContain('--data is not valid JSON');
  const unknown = await reten(['events', 'lst']);
  expect(unknown.code).toBe(2);

  const port = await freePort(); // nothing listens there
  const unreachable = await reten(['events', 'list'], {
    RETEN_API_URL: `http://127.0.0.1:${port}`,
  });
  expect(unreachable.code).toBe(4);
  expect(unreachable.stderr).toBe(`error: cannot reach http://127.0.0.1:${port}: ECONNREFUSED\n`);
});

it('exits 4 naming the bound when the API accepts the connection and never answers', async () => {
  const sockets: Socket[] = [];
  const stalled = createServer((socket) => sockets.push(socket)); // reads, never writes
  await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
  const { port } = stalled.address() as { port: number };
  try {
    const result = await reten(['events', 'list', '--timeout-ms', '500'], {
      RETEN_API_URL: `http://127.0.0.1:${port}`,
    });
    expect(result.code).toBe(4);
    expect(result.stderr).toBe(`error: no answer from http://127.0.0.1:${port} within 500 ms\n`);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => stalled.close(resolve));
  }
});
