import type { Pool } from 'pg';
import { qualified } from './webhook-rows';
import type { DeliveryRow } from './webhook-rows';
import { DELIVERY_COLUMNS, toDeliveryRow } from './delivery-attempts';
import type { DeliveryStateRecord } from './delivery-attempts';

/** A delivery queued for dispatch (manual retry or replay), with the envelope to send. */
export interface DispatchItem {
  row: DeliveryRow;
  dataJson: string;
  occurredAt: Date;
  /** The event's ordering key; null when it has none. */
  orderingKey: string | null;
  /** The event's W3C trace context (stored with it); null when it has none. */
  traceparent: string | null;
  tracestate: string | null;
}

/**
 * The dispatch queue: deliveries the API requeued (manual retry, replay) wait in
 * `webhook_deliveries` with `dispatch_requested_at` set until the delivery service publishes
 * them.
 */
export class DeliveryDispatchQueue {
  constructor(private readonly pool: Pool) {}

  /**
   * Takes up to `limit` deliveries queued by the API (manual retry, replay) in event order and
   * hands them to `publish` inside the transaction that clears their request: if publishing
   * fails, they stay queued.
   */
  async dispatch(
    limit: number,
    publish: (items: DispatchItem[]) => Promise<void>,
  ): Promise<number> {
    const client = await this.pool.connect();
    // a connection that dies between two statements must not be an unhandled 'error' event
    const onError = (err: Error) => void err;
    client.on('error', onError);
    let failure: Error | undefined;
    try {
      await client.query('BEGIN');
      const res = await client.query<
        DeliveryStateRecord & {
          data: string;
          occurred_at: Date;
          ordering_key: string | null;
          traceparent: string | null;
          tracestate: string | null;
        }
      >(
        `SELECT ${qualified(DELIVERY_COLUMNS, 'd')}, ev.data::text AS data, ev.occurred_at,
                ev.ordering_key, ev.traceparent, ev.tracestate
           FROM webhook_deliveries d
           JOIN events ev ON ev.tenant_id = d.tenant_id AND ev.event_id = d.event_id
                         AND ev.revision = d.revision
          WHERE d.dispatch_requested_at IS NOT NULL
          ORDER BY d.event_seq, d.id LIMIT $1 FOR UPDATE OF d SKIP LOCKED`,
        [limit],
      );
      if (res.rows.length === 0) {
        await client.query('COMMIT');
        return 0;
      }
      await publish(
        res.rows.map((r) => ({
          row: toDeliveryRow(r),
          dataJson: r.data,
          occurredAt: r.occurred_at,
          orderingKey: r.ordering_key,
          traceparent: r.traceparent,
          tracestate: r.tracestate,
        })),
      );
      await client.query(
        'UPDATE webhook_deliveries SET dispatch_requested_at = NULL WHERE id = ANY($1::text[])',
        [res.rows.map((r) => r.id)],
      );
      await client.query('COMMIT');
      return res.rows.length;
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.off('error', onError);
      // after a failure the connection may be dead or stalled: the pool discards it
      client.release(failure);
    }
  }
}
