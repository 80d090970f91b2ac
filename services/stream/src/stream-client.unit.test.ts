import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import { createMetricsRegistry } from '@reten/observability';
import { createStreamMetrics } from './metrics';
import type { LiveEvent } from './redis-message';
import { StreamClient } from './stream-client';
import { TypeFilter } from './type-filter';

/** A stand-in for a ws socket: records sends, lets a test set bufferedAmount. */
class FakeSocket extends EventEmitter {
  sent: string[] = [];
  bufferedAmount = 0;
  closed: { code: number; reason: string } | undefined;
  send(data: Buffer | string, _opts?: unknown, cb?: () => void): void {
    this.sent.push(data.toString());
    cb?.();
  }
  close(code: number, reason: string): void {
    this.closed = { code, reason };
  }
  terminate(): void {}
}

function live(position: number, type = 'order.created'): LiveEvent {
  return {
    position,
    publishedAtMs: Date.now(),
    receivedAtMs: undefined,
    eventType: type,
    json: Buffer.from(`{"p":${position}}`),
  };
}

function backfilled(position: number) {
  return {
    position: String(position),
    eventId: `e${position}`,
    revision: 1,
    eventType: 'order.created',
    json: `{"p":${position}}`,
  };
}

function setup(maxSendBufferBytes = 1_000_000) {
  const ws = new FakeSocket();
  const metrics = createStreamMetrics(createMetricsRegistry('stream-unit'));
  const client = new StreamClient(
    ws as unknown as WebSocket,
    'acme',
    'rtn_test',
    { maxSendBufferBytes, closeGraceMs: 10, pingIntervalMs: 100 },
    metrics,
  );
  client.filter = new TypeFilter(['order.*']);
  const positions = () => ws.sent.map((s) => (JSON.parse(s) as { p?: number }).p);
  return { ws, client, positions };
}

describe('StreamClient seam', () => {
  it('buffers live events during a resume and sends only those the backfill did not, in order', async () => {
    const { client, positions } = setup();
    client.beginResume();
    client.deliverLive(live(11));
    client.deliverLive(live(12));
    client.deliverLive(live(13, 'user.created')); // filtered out
    for (const s of [10, 11]) await client.sendBackfill(backfilled(s));
    client.finishResume();
    client.deliverLive(live(14));
    expect(positions()).toEqual([10, 11, 12, 14]);
  });

  it('drops a live copy of a backfilled event that arrives after the seam', async () => {
    const { client, positions } = setup();
    client.beginResume();
    await client.sendBackfill(backfilled(20));
    await client.sendBackfill(backfilled(21));
    client.finishResume();
    client.deliverLive(live(21)); // the stream consumer lagged behind the backfill
    client.deliverLive(live(22));
    expect(positions()).toEqual([20, 21, 22]);
  });

  it('does not resend live copies of events at or before the resume point', () => {
    const { client, positions } = setup();
    client.cursor = 30;
    client.beginResume();
    client.finishResume();
    client.deliverLive(live(30));
    client.deliverLive(live(31));
    expect(positions()).toEqual([31]);
  });
});

describe('StreamClient filter change during a resume', () => {
  it('flushes the resume buffer with the old filter, then applies the new one', async () => {
    const { client, positions } = setup();
    client.beginResume();
    client.pendingFilter = new TypeFilter(['user.*']);
    client.deliverLive(live(2)); // order.created: buffered under the old filter
    await client.sendBackfill(backfilled(1));
    client.finishResume();
    client.deliverLive(live(3)); // order.created: filtered out now
    client.deliverLive(live(4, 'user.created'));
    expect(positions()).toEqual([1, 2, 4]);
  });
});

describe('StreamClient backpressure', () => {
  it('closes with 4008 instead of sending past the send buffer limit', () => {
    const { ws, client } = setup(100);
    client.state = 'live';
    ws.bufferedAmount = 95;
    client.deliverLive(live(1));
    expect(ws.sent).toEqual([]);
    expect(ws.closed?.code).toBe(4008);
    expect(client.state).toBe('closed');
  });

  it('drops an overflowing resume buffer and asks for one more backfill pass instead of growing', async () => {
    const { ws, client, positions } = setup(40);
    client.beginResume();
    client.deliverLive(live(1));
    client.deliverLive(live(2));
    client.deliverLive(live(3)); // past half the budget: the buffer is dropped
    expect(client.resyncRequested).toBe(true);
    expect(ws.closed).toBeUndefined();
    client.resyncRequested = false;
    for (const s of [1, 2, 3]) await client.sendBackfill(backfilled(s)); // the next pass
    client.deliverLive(live(4));
    client.finishResume();
    expect(positions()).toEqual([1, 2, 3, 4]);
  });
});
