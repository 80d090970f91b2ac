import { WebhookDeliveryRepo, deliveryIdOf } from '@reten/store';
import { eventually, webhookReceiver } from '@reten/testing';
import type { WebhookReceiver } from '@reten/testing';
import { UNSAVED_IN_FLIGHT_MS } from './attempt-runner';
import { DeliveryStore } from './delivery-store';
import { startTestDelivery } from './test-fixture';
import type { TestDelivery } from './test-fixture';

interface RowView {
  id: string;
  status: string;
  attempts: number;
  token: string | null;
  xmax: string;
  recorded: number;
}

describe('delivery service: a first attempt stores its delivery row once', () => {
  let d: TestDelivery;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    d = await startTestDelivery('delivery first write', { env: { DELIVERY_TIMEOUT_MS: '10000' } });
    receiver = await webhookReceiver();
  });

  afterAll(async () => {
    await d?.close();
    await receiver?.close();
  });

  const rowsOf = async (endpointId: string, eventId: string) =>
    (
      await d.schema.pool.query<RowView>(
        `SELECT w.id, w.status, w.attempts, w.token, w.xmax::text,
                (SELECT count(*)::int FROM webhook_attempts a WHERE a.delivery_id = w.id) AS recorded
           FROM webhook_deliveries w WHERE w.endpoint_id = $1 AND w.event_id = $2`,
        [endpointId, eventId],
      )
    ).rows;

  it('inserts the row with its outcome after the request, under the webhook-id it sent, and never updates it', async () => {
    receiver.respond({ status: 204 });
    const ep = await d.createEndpoint({ url: receiver.url('/once') });
    const ev = await d.publish('order.created', { order_id: 'ord_once' });
    const rows = await eventually(async () => {
      const found = await rowsOf(ep.id, ev.eventId);
      expect(found).toHaveLength(1);
      expect(found[0]!.recorded).toBe(1);
      return found;
    });
    const [req] = receiver.requestsTo('/once');
    expect(rows[0]).toMatchObject({
      id: req!.headers['webhook-id'],
      status: 'succeeded',
      attempts: 1,
      token: null,
      xmax: '0',
    });
    // the same message again (the relay publishes at least once): found stored, not sent
    await d.republish(ev);
    const marker = await d.publish('order.created', { order_id: 'ord_after' });
    await eventually(() =>
      expect(receiver.requestsTo('/once').map((r) => r.headers['x-reten-event-id'])).toContain(
        marker.eventId,
      ),
    );
    expect(
      receiver.requestsTo('/once').filter((r) => r.headers['x-reten-event-id'] === ev.eventId),
    ).toHaveLength(1);
  });

  it('shows a slow first attempt as pending while its request is in flight, then stores its outcome on that row', async () => {
    const answerAfterMs = UNSAVED_IN_FLIGHT_MS + 2_000;
    receiver.respond({ status: 200, delayMs: answerAfterMs });
    const ep = await d.createEndpoint({ url: receiver.url('/slow') });
    const sentAt = Date.now();
    const ev = await d.publish('order.created', { order_id: 'ord_slow' });
    const pending = await eventually(async () => {
      const found = await rowsOf(ep.id, ev.eventId);
      expect(found).toHaveLength(1);
      return found[0]!;
    });
    // seen before the receiver answered: the request is still in flight
    expect(Date.now() - sentAt).toBeLessThan(answerAfterMs);
    expect(pending).toMatchObject({ status: 'pending', attempts: 0, recorded: 0 });
    const [req] = receiver.requestsTo('/slow');
    expect(pending.id).toBe(req!.headers['webhook-id']);
    await eventually(async () =>
      expect(await rowsOf(ep.id, ev.eventId)).toEqual([
        expect.objectContaining({ id: pending.id, status: 'succeeded', attempts: 1, recorded: 1 }),
      ]),
    );
  });

  it('gives a delivery that a replay creates the id a first attempt would have sent', async () => {
    receiver.respond({ status: 204 });
    const ev = await d.publish('replay.created', { order_id: 'ord_replay' });
    // an endpoint that did not exist when the event went out: the replay creates its row
    const ep = await d.createEndpoint({ url: receiver.url('/replayed') });
    const received = await d.schema.pool.query<{ received_at: Date }>(
      'SELECT received_at FROM events WHERE event_id = $1',
      [ev.eventId],
    );
    const expected = deliveryIdOf(ep.id, ev.eventId, 1, received.rows[0]!.received_at.getTime());
    const replayed = await new WebhookDeliveryRepo(d.schema.pool, d.schema.schema).replay(
      'dev',
      { id: ep.id, eventTypes: ['replay.*'] },
      new Date(Date.now() - 60_000),
      false,
    );
    expect(replayed).toBe(1);
    const [req] = await eventually(() => {
      const sent = receiver.requestsTo('/replayed');
      expect(sent).toHaveLength(1);
      return sent;
    });
    expect(req!.headers['webhook-id']).toBe(expected);
    expect(req!.headers['x-reten-event-id']).toBe(ev.eventId);
  });

  it('reads no rows for a first-published event; a copy that may repeat it reads them and is not sent again', async () => {
    receiver.respond({ status: 204 });
    const ep = await d.createEndpoint({ url: receiver.url('/first') });
    // counts the reads of stored rows; each still runs its statement
    const reads = jest.spyOn(DeliveryStore.prototype, 'existingDeliveries');
    try {
      const ev = await d.publish('order.created', { order_id: 'ord_first' });
      const readsOf = () => reads.mock.calls.filter(([, e]) => e.eventId === ev.eventId).length;
      await eventually(async () =>
        expect(await rowsOf(ep.id, ev.eventId)).toEqual([
          expect.objectContaining({ status: 'succeeded', attempts: 1, recorded: 1 }),
        ]),
      );
      expect(readsOf()).toBe(0);
      // a republished round: it reads the stored row, and does not send
      await d.republish(ev);
      await eventually(() => expect(readsOf()).toBe(1));
      // a copy marked as a first publish once more (a broker letting it overtake a retried
      // round): this process attempted that delivery lately, so it reads the row first
      await d.republish(ev, { firstPublish: true });
      const marker = await d.publish('order.created', { order_id: 'ord_first_after' });
      await eventually(() =>
        expect(receiver.requestsTo('/first').map((r) => r.headers['x-reten-event-id'])).toContain(
          marker.eventId,
        ),
      );
      expect(
        receiver.requestsTo('/first').filter((r) => r.headers['x-reten-event-id'] === ev.eventId),
      ).toHaveLength(1);
      expect(await rowsOf(ep.id, ev.eventId)).toEqual([
        expect.objectContaining({ status: 'succeeded', attempts: 1, recorded: 1 }),
      ]);
    } finally {
      reads.mockRestore();
    }
  });
});
