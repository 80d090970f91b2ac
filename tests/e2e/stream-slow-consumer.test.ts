import { eventually } from '@reten/testing';
import { startTestGateway } from '../../services/gateway/src/test-fixture';
import type { TestGateway } from '../../services/gateway/src/test-fixture';
import { RawWsClient } from '../../services/stream/src/raw-ws-client';
import { startTestStream, testRedisPrefix } from '../../services/stream/src/test-fixture';
import type { TestStream } from '../../services/stream/src/test-fixture';
import { ingestMany, metricValue } from './stream-helpers';

jest.setTimeout(90_000);

let gw: TestGateway;
let stream: TestStream;
let writeKey: string;
let streamKey: string;
const raws: RawWsClient[] = [];
const CLOSE_GRACE_MS = 500;

beforeAll(async () => {
  gw = await startTestGateway('stream slow consumer', { tenantId: 'acme' });
  stream = await startTestStream({
    schema: gw.schema,
    vhost: gw.vhost,
    redisPrefix: testRedisPrefix('stream slow consumer'),
    env: {
      STREAM_MAX_SEND_BUFFER_BYTES: '262144',
      STREAM_CLOSE_GRACE_MS: String(CLOSE_GRACE_MS),
    },
  });
  writeKey = await gw.createKey('acme', ['events:write']);
  streamKey = await gw.createKey('acme', ['stream:read']);
});

afterAll(async () => {
  for (const r of raws.splice(0)) r.destroy();
  await stream?.close();
  await gw?.close();
});

it('sends a client that stopped reading a close frame with 4008 it can read once it reads again, not a bare disconnect', async () => {
  const raw = await RawWsClient.connect(`${stream.wsUrl}?types=big.*`, streamKey);
  raws.push(raw);
  await eventually(() =>
    expect(raw.texts()).toContainEqual(expect.objectContaining({ type: 'subscribed' })),
  );
  raw.socket.pause(); // the kernel buffers fill, then the server's send buffer
  const blob = 'x'.repeat(100_000);
  const sent: string[] = [];
  await eventually(
    async () => {
      sent.push(...(await ingestMany(gw, writeKey, 'big.blob', 10, (i) => ({ i, blob }))));
      expect(await metricValue(stream.httpUrl, 'reten_stream_slow_clients_dropped_total')).toBe(1);
    },
    { timeoutMs: 60_000 },
  );
  // the server gave up on it; the client stays away longer than the close grace (the fault
  // modelled: a reader stalled for a while), then reads what reached it
  await new Promise((resolve) => setTimeout(resolve, 3 * CLOSE_GRACE_MS));
  raw.socket.resume();
  await eventually(() => expect(raw.ended).toBe(true), { timeoutMs: 20_000 });
  expect(raw.closeCode()).toBe(4008);
  const received = raw
    .texts()
    .filter(
      (t): t is { event_id: string } => typeof (t as { event_id?: unknown }).event_id === 'string',
    )
    .map((t) => t.event_id);
  expect(received).toEqual(sent.slice(0, received.length));
});
