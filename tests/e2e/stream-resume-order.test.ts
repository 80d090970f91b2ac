import { newEventId, outboxChannel } from '@reten/store';
import { eventually } from '@reten/testing';
import { startTestGateway } from '../../services/gateway/src/test-fixture';
import type { TestGateway } from '../../services/gateway/src/test-fixture';
import { startTestStream, testRedisPrefix } from '../../services/stream/src/test-fixture';
import type { TestStream } from '../../services/stream/src/test-fixture';
import { TestClient } from '../../services/stream/src/test-client';
import { ingest } from './stream-helpers';

jest.setTimeout(120_000);

let gw: TestGateway;
let stream: TestStream;
let writeKey: string;
let streamKey: string;
const clients: TestClient[] = [];

beforeAll(async () => {
  gw = await startTestGateway('stream resume order', { tenantId: 'acme' });
  stream = await startTestStream({
    schema: gw.schema,
    vhost: gw.vhost,
    redisPrefix: testRedisPrefix('stream resume order'),
  });
  writeKey = await gw.createKey('acme', ['events:write']);
  streamKey = await gw.createKey('acme', ['stream:read']);
});

afterAll(async () => {
  for (const c of clients.splice(0)) c.close();
  await stream?.close();
  await gw?.close();
});

/**
 * A client that reconnects after every event it receives, resuming after the last one: every
 * event it gets crosses the resume seam.
 */
class ReconnectEveryEvent {
  readonly received: string[] = [];
  readonly closeCodes: number[] = [];
  current: TestClient | undefined;
  private stopped = false;

  constructor(private readonly url: string) {
    this.connect();
  }

  private connect(): void {
    if (this.stopped) return;
    const last = this.received.at(-1);
    const client = new TestClient(`${this.url}?types=*${last ? `&last_event_id=${last}` : ''}`, {
      token: streamKey,
    });
    clients.push(client);
    this.current = client;
    let closing = false;
    client.ws.on('message', () => {
      const frame = client.frames.at(-1);
      // one event per connection: what arrives after it is left unprocessed, as by a client
      // that goes away right after handling an event
      if (closing || !frame || typeof frame.event_id !== 'string') return;
      this.received.push(`${frame.event_id}:${String(frame.revision)}`);
      closing = true;
      client.ws.close(1000);
    });
    client.ws.on('close', (code) => {
      this.closeCodes.push(code);
      setImmediate(() => this.connect());
    });
  }

  stop(): void {
    this.stopped = true;
  }
}

/**
 * Inserts an event in a transaction that stays open until `commit()`: its seq is taken now, and
 * events accepted meanwhile get larger seqs yet become visible first (the race of two
 * concurrent ingest transactions, held open on purpose).
 */
async function slowCommit(eventId: string): Promise<{ commit: () => Promise<void> }> {
  const client = await gw.schema.pool.connect();
  await client.query('BEGIN');
  await client.query(
    `INSERT INTO events (tenant_id, event_id, revision, event_type, occurred_at, data)
     VALUES ('acme', $1, 1, 'race.slow', now(), '{}'::jsonb)`,
    [eventId],
  );
  return {
    commit: async () => {
      await client.query('SELECT pg_notify($1, $2)', [outboxChannel(gw.schema.schema), '']);
      await client.query('COMMIT');
      client.release();
    },
  };
}

it('gives a client that reconnects at every event exactly the live sequence under concurrent producers: no gap, no duplicate, same order', async () => {
  const live = new TestClient(`${stream.wsUrl}?types=*`, { token: streamKey });
  clients.push(live);
  await live.waitFor('subscribed');
  const resuming = new ReconnectEveryEvent(stream.wsUrl);
  await resuming.current?.waitFor('subscribed');
  const first = await ingest(gw, writeKey, 'race.start');
  await eventually(() => expect(live.eventIds()).toEqual([first]));
  await eventually(() => expect(resuming.received).toEqual([`${first}:1`]));

  // a smaller seq that commits only after larger ones were published and streamed
  const slowId = newEventId();
  const slow = await slowCommit(slowId);
  const before = await ingest(gw, writeKey, 'race.fast');
  await eventually(() => expect(resuming.received.at(-1)).toBe(`${before}:1`));

  const producers = Array.from({ length: 6 }, async (_, p) => {
    const ids: string[] = [];
    for (let i = 0; i < 15; i += 1) {
      ids.push(await ingest(gw, writeKey, `race.p${p}`, { p, i }));
      if (p === 0 && i === 3) await slow.commit();
    }
    return ids;
  });
  const accepted = [first, before, slowId, ...(await Promise.all(producers)).flat()];

  await eventually(() => expect(live.eventIds().length).toBe(accepted.length), {
    timeoutMs: 60_000,
  });
  await eventually(() => expect(new Set(resuming.received).size).toBe(accepted.length), {
    timeoutMs: 60_000,
  });
  resuming.stop();
  expect([...live.eventIds()].sort()).toEqual([...accepted].sort());
  expect(resuming.received).toEqual(live.events().map((f) => `${String(f.event_id)}:1`));
  expect(resuming.closeCodes.length).toBeGreaterThanOrEqual(accepted.length);
  expect(resuming.closeCodes.every((code) => code === 1000 || code === 1005)).toBe(true);
});
