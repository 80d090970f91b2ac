import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import {
  TcpProxy,
  createTestSchema,
  createTestVhost,
  eventually,
  freePort,
  webhookReceiver,
} from '@reten/testing';
import type { TestSchema, TestVhost, WebhookReceiver } from '@reten/testing';
import { verifyWebhook } from '@reten/webhooks';
import { api, eventIdOf } from '../../services/gateway/src/test-api';
import { startTestStream, testRedisPrefix } from '../../services/stream/src/test-fixture';
import type { TestStream } from '../../services/stream/src/test-fixture';
import { createApiKey, startGatewayProcess } from './gateway-process';
import type { GatewayProcess } from './gateway-process';
import { CliProcess } from './cli-process';

jest.setTimeout(120_000);

let schema: TestSchema;
let vhost: TestVhost;
let gateway: GatewayProcess;
let apiKey: string;
let redisPrefix: string;
let streamPort: number;
let stream: TestStream;
let receiver: WebhookReceiver;
const running: CliProcess[] = [];
const proxies: TcpProxy[] = [];

/** A stream replica on the same port every time, so a restarted one is where the CLI reconnects. */
function startStream(): Promise<TestStream> {
  return startTestStream({ schema, vhost, redisPrefix, env: { PORT: String(streamPort) } });
}

beforeAll(async () => {
  schema = await createTestSchema('e2e cli stream');
  vhost = await createTestVhost('e2e cli stream');
  apiKey = await createApiKey(schema);
  gateway = await startGatewayProcess(schema, vhost);
  redisPrefix = testRedisPrefix('e2e cli stream');
  streamPort = await freePort();
  stream = await startStream();
  receiver = await webhookReceiver();
});

afterEach(async () => {
  for (const proc of running.splice(0)) await proc.stop();
  for (const proxy of proxies.splice(0)) await proxy.close();
});

afterAll(async () => {
  await stream?.close();
  await gateway?.process.kill('SIGTERM');
  await receiver?.close();
  await schema?.drop();
  await vhost?.drop();
});

function cli(args: string[], streamUrl = stream.wsUrl, key = apiKey): CliProcess {
  const proc = CliProcess.start(args, {
    env: { RETEN_API_URL: gateway.url, RETEN_API_KEY: key, RETEN_STREAM_URL: streamUrl },
  });
  running.push(proc);
  return proc;
}

async function send(type: string, data: unknown = {}): Promise<string> {
  return eventIdOf(await api({ url: gateway.url, apiKey }, 'POST', `/v1.0/event/${type}`, data));
}

/** The event ids `reten tail` printed, in order (every stdout line must be an envelope). */
function tailed(proc: CliProcess): string[] {
  return proc.lines().map((line) => (JSON.parse(line) as { event_id: string }).event_id);
}

async function subscribed(proc: CliProcess, times = 1): Promise<void> {
  await eventually(
    () => {
      if (!proc.running) throw new Error(`reten exited: ${proc.stderr}`);
      expect(proc.stderr.split('subscribed to').length - 1).toBeGreaterThanOrEqual(times);
    },
    { timeoutMs: 20_000 },
  );
}

it('tail prints each event sent after it started as one JSON line, only of the given types', async () => {
  const tail = cli(['tail', '--types', 'tail.*']);
  await subscribed(tail);
  const a = await send('tail.created', { n: 1 });
  await send('other.created', { n: 2 });
  const b = await send('tail.updated', { n: 3 });
  await eventually(() => expect(tailed(tail)).toEqual([a, b]));
  expect(JSON.parse(tail.lines()[0]!)).toEqual({
    event_id: a,
    event_type: 'tail.created',
    timestamp: expect.any(String),
    revision: 1,
    data: { n: 1 },
  });
  expect(await tail.stop()).toBe(0);
});

it('tail --since-id first replays the events after that one', async () => {
  const first = await send('since.a', { i: 1 });
  const second = await send('since.a', { i: 2 });
  const tail = cli(['tail', '--types', 'since.*', '--since-id', first]);
  await eventually(() => expect(tailed(tail)).toEqual([second]));
  expect(tail.stderr).toContain(`resumed after ${first}`);
});

it('tail resumes after the stream process restarts, without a gap or a duplicate', async () => {
  const tail = cli(['tail', '--types', 'restart.*']);
  await subscribed(tail);
  const before = await send('restart.a');
  await eventually(() => expect(tailed(tail)).toEqual([before]));

  await stream.close(); // every client gets 1012
  const whileDown = [await send('restart.b'), await send('restart.c')];
  await eventually(() => expect(tail.stderr).toMatch(/disconnected \(1012/));
  stream = await startStream();

  await eventually(() => expect(tailed(tail)).toEqual([before, ...whileDown]), {
    timeoutMs: 30_000,
  });
  expect(tail.stderr).toContain(`resumed after ${before}:1`);
  const after = await send('restart.d');
  await eventually(() => expect(tailed(tail)).toEqual([before, ...whileDown, after]));
});

it('tail resumes after its connection is cut by the network, retrying until it comes back', async () => {
  const proxy = await TcpProxy.start('127.0.0.1', streamPort);
  proxies.push(proxy);
  const tail = cli(['tail', '--types', 'cut.*'], proxy.proxiedUrl(stream.wsUrl));
  await subscribed(tail);
  const before = await send('cut.a');
  await eventually(() => expect(tailed(tail)).toEqual([before]));

  proxy.cut(); // no close frame: the CLI sees 1006, and its reconnects fail until restore()
  const during = await send('cut.b');
  await eventually(() =>
    expect(tail.stderr.split('reconnecting in').length - 1).toBeGreaterThanOrEqual(2),
  );
  proxy.restore();

  await eventually(() => expect(tailed(tail)).toEqual([before, during]), { timeoutMs: 30_000 });
  expect(tail.stderr).toMatch(/disconnected \(1006/);
  expect(tail.stderr).toContain(`resumed after ${before}:1`);
});

it('tail exits 3 with the code when the stream refuses the key', async () => {
  const tail = cli(['tail'], stream.wsUrl, 'rtn_not_a_real_key');
  expect(await tail.wait()).toBe(3);
  expect(tail.stderr).toMatch(/^error: unauthorized \(HTTP 401\): .+/m);
});

it('listen forwards each event to the local URL signed as Reten signs webhooks, and shows status and latency', async () => {
  receiver.respond({ status: 204 });
  const listen = cli(['listen', '--forward-to', receiver.url('/listen'), '--types', 'listen.*']);
  await subscribed(listen);
  const secret = /Webhook signing secret: (whsec_\S+)/.exec(listen.stdout)?.[1];
  expect(secret).toBeDefined();

  const id = await send('listen.created', { order_id: 'ord_9' });
  const req = await eventually(() => {
    const r = receiver.requestsTo('/listen')[0];
    if (!r) throw new Error('nothing forwarded yet');
    return r;
  });
  // a receiver written for production verifies it unchanged, with either library...
  expect(new Webhook(secret!).verify(req.rawBody, req.headers)).toMatchObject({
    event_id: id,
    event_type: 'listen.created',
    data: { order_id: 'ord_9' },
  });
  expect(verifyWebhook(req.rawBody, req.headers, secret!)).toMatchObject({ event_id: id });
  // ...or with the GitHub-style signature, keyed with the whole whsec_ string
  const hmac = createHmac('sha256', secret!).update(req.rawBody).digest('hex');
  expect(req.headers['x-reten-signature']).toBe(`sha256=${hmac}`);
  expect(req.headers['x-reten-event-id']).toBe(id);
  expect(req.headers['x-reten-event-type']).toBe('listen.created');
  expect(req.headers['webhook-id']).toBe(`fwd_${id}_1`);

  await eventually(() =>
    expect(listen.stdout).toMatch(new RegExp(`listen\\.created  ${id}  → 204  \\d+ ms`)),
  );
});

it('listen --json with --secret shows failed and stalled forwards, each bounded, and goes on', async () => {
  const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
  receiver.respond((req) =>
    req.path === '/hang' ? { hang: true } : req.path === '/fail' ? { status: 500 } : {},
  );
  const failing = cli([
    'listen',
    '--json',
    '--secret',
    secret,
    '--timeout-ms',
    '500',
    '--forward-to',
    receiver.url('/fail'),
    '--types',
    'json.*',
  ]);
  const stalled = cli([
    'listen',
    '--timeout-ms',
    '500',
    '--forward-to',
    receiver.url('/hang'),
    '-t',
    'json.*',
  ]);
  await subscribed(failing);
  await subscribed(stalled);
  expect(JSON.parse(failing.lines()[0]!)).toEqual({
    forward_to: receiver.url('/fail'),
    types: ['json.*'],
    secret,
  });

  const ids = [await send('json.a'), await send('json.b')];
  await eventually(() => expect(failing.lines()).toHaveLength(3));
  const results = failing
    .lines()
    .slice(1)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(results).toEqual(
    ids.map((id) => ({
      event_id: id,
      event_type: expect.stringMatching(/^json\./),
      revision: 1,
      status: 500,
      latency_ms: expect.any(Number),
      error: null,
    })),
  );
  const forwarded = receiver.requestsTo('/fail')[0]!;
  expect(new Webhook(secret).verify(forwarded.rawBody, forwarded.headers)).toMatchObject({
    event_id: ids[0],
  });

  // each stalled forward gives up after --timeout-ms, and the next event is still forwarded
  await eventually(() => {
    const failures = stalled.stdout.match(/→ failed: no answer from .* within 500 ms/g) ?? [];
    expect(failures).toHaveLength(2);
  });
  expect(receiver.requestsTo('/hang')).toHaveLength(2);
});
