import { TcpProxy, eventually, logSink, testServers, webhookReceiver } from '@reten/testing';
import type { LogSink, WebhookReceiver } from '@reten/testing';
import { startTestDelivery } from './test-fixture';
import type { PublishedEvent, TestDelivery } from './test-fixture';

interface HistoryRow {
  event_id: string;
  status: string;
  attempts: number;
  recorded: number;
}

describe('delivery service: no request sent twice, every request in the history', () => {
  let proxy: TcpProxy;
  let d: TestDelivery;
  let receiver: WebhookReceiver;
  let sink: LogSink;

  beforeAll(async () => {
    const pg = new URL((await testServers()).databaseUrl);
    proxy = await TcpProxy.start(pg.hostname, Number(pg.port || 5432));
    sink = logSink('info');
    d = await startTestDelivery('delivery pg flap', {
      log: sink.log,
      databaseUrl: (url) => proxy.proxiedUrl(url),
      env: { DELIVERY_RETRY_SCHEDULE_SECONDS: '0,0.5' },
    });
    receiver = await webhookReceiver();
  });

  afterAll(async () => {
    await d?.close();
    await receiver?.close();
    await proxy?.close();
  });

  /** Per delivery of the endpoint: its status, its attempt counter and the attempts stored. */
  const historyOf = async (endpointId: string) =>
    (
      await d.schema.pool.query<HistoryRow>(
        `SELECT w.event_id, w.status, w.attempts,
                (SELECT count(*)::int FROM webhook_attempts a WHERE a.delivery_id = w.id) AS recorded
           FROM webhook_deliveries w WHERE w.endpoint_id = $1 ORDER BY w.event_seq`,
        [endpointId],
      )
    ).rows;

  const postsPerEvent = (path: string) => {
    const counts = new Map<string, number>();
    for (const r of receiver.requestsTo(path)) {
      const id = r.headers['x-reten-event-id'] ?? '';
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    return counts;
  };

  it('sends each event once while the database drops between the POST and its record, and stores every request', async () => {
    // the database goes away while each of the first requests is at the receiver, so the
    // service learns the answer when it cannot store it, and comes back 600 ms later
    let flaps = 0;
    receiver.respond(() => {
      if (flaps < 4) {
        flaps++;
        proxy.cut();
        setTimeout(() => proxy.restore(), 600);
      }
      return { status: 204, delayMs: 50 };
    });
    const ep = await d.createEndpoint({ url: receiver.url('/flap'), tenantId: 'flap' });
    const events: PublishedEvent[] = [];
    for (let i = 0; i < 8; i++) events.push(await d.publish('flap.x', { i }, 'flap'));
    await eventually(
      async () => {
        const rows = await historyOf(ep.id);
        expect(rows.map((r) => r.status)).toEqual(events.map(() => 'succeeded'));
      },
      { timeoutMs: 30_000 },
    );
    expect(flaps).toBe(4);
    const posts = postsPerEvent('/flap');
    expect(events.map((e) => posts.get(e.eventId))).toEqual(events.map(() => 1));
    // the history holds every request that left the process, and nothing else
    const rows = await historyOf(ep.id);
    expect(rows.map((r) => [r.event_id, r.attempts, r.recorded])).toEqual(
      events.map((e) => [e.eventId, posts.get(e.eventId), posts.get(e.eventId)]),
    );
    // an outage is logged when it starts and when it ends, not once per retry
    const said = (msg: string) => sink.lines.filter((l) => l.msg === msg).length;
    const down = said(
      'attempt outcomes cannot be stored: retrying them, requests are not sent again',
    );
    expect(down).toBeGreaterThanOrEqual(1);
    expect(down).toBeLessThanOrEqual(4);
    expect(said('attempt outcomes stored again')).toBe(down);
  });

  it('acks a redelivered event message whose delivery already succeeded without sending it again', async () => {
    receiver.respond({ status: 204 });
    const ep = await d.createEndpoint({ url: receiver.url('/again'), tenantId: 'again' });
    const ev = await d.publish('again.x', { n: 1 }, 'again');
    await eventually(async () =>
      expect((await historyOf(ep.id)).map((r) => r.status)).toEqual(['succeeded']),
    );
    // the relay publishes at least once: the same message again, as after a lost ack
    await d.republish(ev);
    const marker = await d.publish('again.x', { n: 2 }, 'again');
    // the copy comes before the next event: once that one is stored, the copy was handled
    await eventually(async () =>
      expect((await historyOf(ep.id)).map((r) => [r.status, r.attempts, r.recorded])).toEqual([
        ['succeeded', 1, 1],
        ['succeeded', 1, 1],
      ]),
    );
    expect(postsPerEvent('/again').get(ev.eventId)).toBe(1);
    expect(postsPerEvent('/again').get(marker.eventId)).toBe(1);
  });

  it('sends once when two copies of an event message arrive together', async () => {
    receiver.respond({ status: 204, delayMs: 300 });
    const ep = await d.createEndpoint({ url: receiver.url('/copies'), tenantId: 'copies' });
    const ev = await d.publish('copies.x', {}, 'copies');
    // the second copy is read while the first one's request is still at the receiver
    await d.republish(ev);
    const marker = await d.publish('copies.x', { last: true }, 'copies');
    await eventually(async () =>
      expect((await historyOf(ep.id)).map((r) => [r.status, r.attempts, r.recorded])).toEqual([
        ['succeeded', 1, 1],
        ['succeeded', 1, 1],
      ]),
    );
    expect(postsPerEvent('/copies').get(ev.eventId)).toBe(1);
    expect(postsPerEvent('/copies').get(marker.eventId)).toBe(1);
  });
});
