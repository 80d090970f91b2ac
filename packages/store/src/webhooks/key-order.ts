import type { Pool } from 'pg';
import { dispatchChannel } from '../notify-channels';

/**
 * Rows (alias `a`) that hold their (endpoint, ordering key): unfinished, or failed on a `block`
 * endpoint. The head of a key is the first of them by `event_seq`; only the head may be
 * attempted. The predicate of the partial index `webhook_deliveries_key_order_idx`.
 */
const holding = (a: string) =>
  `(${a}.status IN ('pending', 'retrying', 'held') OR (${a}.status = 'failed' AND ${a}.holds_key))`;

/** Releases the held heads of the given (endpoint, key) pairs (`k`) and NOTIFYs the dispatcher. */
function releaseSql(keys: string): string {
  return `WITH ${keys},
     head AS (
       SELECT DISTINCT ON (d.endpoint_id, d.ordering_key) d.id, d.event_id, d.status
         FROM webhook_deliveries d JOIN k ON d.endpoint_id = k.endpoint_id
                                         AND d.ordering_key = k.ordering_key
        WHERE ${holding('d')}
        ORDER BY d.endpoint_id, d.ordering_key, d.event_seq),
     released AS (
       UPDATE webhook_deliveries w
          SET status = 'pending', token = gen_random_uuid()::text,
              dispatch_requested_at = now(), next_attempt_at = now()
         FROM head WHERE w.id = head.id AND w.event_id = head.event_id
                     AND head.status = 'held' AND w.status = 'held'
       RETURNING w.id)
   SELECT count(*)::int AS n,
          CASE WHEN count(*) > 0 THEN pg_notify($1, '') END AS notified
     FROM released`;
}

// Every statement names a delivery's event_id next to its id: the table is partitioned by
// event_id, and ids are unique only per partition.

/**
 * Per-key order of webhook deliveries (`webhook_deliveries.ordering_key`). A delivery whose key
 * has an earlier unfinished delivery to the same endpoint is `held` (no message in RabbitMQ);
 * when the head of a key ends, the next held one is queued for the dispatcher.
 *
 * Races between a hold and the end of the head are closed by order of statements, not locks:
 * each side commits its own change first and then runs `release` in a new statement, so
 * whichever of the two commits last sees both changes and releases.
 */
export class DeliveryKeyOrder {
  private readonly channel: string;

  constructor(
    private readonly pool: Pool,
    schema: string,
  ) {
    this.channel = dispatchChannel(schema);
  }

  /**
   * Holds each delivery whose (endpoint, key) has an earlier delivery that still holds the key;
   * `token` must still be the row's. Per item, in order: the key when it was held (the caller
   * then runs `release` for it), undefined when the delivery may be attempted.
   */
  async holdUnlessHead(
    items: { deliveryId: string; eventId: string; token: string | null }[],
  ): Promise<({ endpointId: string; orderingKey: string } | undefined)[]> {
    const res = await this.pool.query<{ id: string; endpoint_id: string; ordering_key: string }>(
      `UPDATE webhook_deliveries d SET status = 'held', token = NULL, next_attempt_at = NULL
         FROM unnest($1::text[], $2::text[], $3::text[]) AS i(id, token, event_id)
        WHERE d.id = i.id AND d.event_id = i.event_id AND d.token IS NOT DISTINCT FROM i.token
          AND d.ordering_key IS NOT NULL
          AND EXISTS (SELECT 1 FROM webhook_deliveries p
                       WHERE p.endpoint_id = d.endpoint_id AND p.ordering_key = d.ordering_key
                         AND p.event_seq < d.event_seq
                         AND ${holding('p')})
        RETURNING d.id, d.endpoint_id, d.ordering_key`,
      [items.map((i) => i.deliveryId), items.map((i) => i.token), items.map((i) => i.eventId)],
    );
    const held = new Map(
      res.rows.map((r) => [r.id, { endpointId: r.endpoint_id, orderingKey: r.ordering_key }]),
    );
    return items.map((i) => held.get(i.deliveryId));
  }

  /**
   * Before a delivery is recorded as finally failed: whether it keeps holding its key
   * (`block`) or lets the next one go (`skip`). Set while the row is still unfinished, so no
   * moment exists where it is failed and its key looks free.
   */
  async setHoldsKey(
    delivery: { id: string; eventId: string },
    expectedToken: string | null,
    holdsKey: boolean,
  ): Promise<void> {
    await this.pool.query(
      `UPDATE webhook_deliveries SET holds_key = $3
        WHERE id = $1 AND event_id = $4 AND token IS NOT DISTINCT FROM $2 AND holds_key <> $3`,
      [delivery.id, expectedToken, holdsKey, delivery.eventId],
    );
  }

  /** Queues the next delivery of each (endpoint, key) whose head is held. Returns how many. */
  async release(keys: { endpointId: string; orderingKey: string }[]): Promise<number> {
    if (keys.length === 0) return 0;
    const res = await this.pool.query<{ n: number }>(
      releaseSql(
        `k AS (SELECT DISTINCT * FROM unnest($2::text[], $3::text[]) AS k(endpoint_id, ordering_key))`,
      ),
      [this.channel, keys.map((k) => k.endpointId), keys.map((k) => k.orderingKey)],
    );
    return res.rows[0]?.n ?? 0;
  }

  /**
   * Releases every held head (the fallback of `release`: a process killed between recording
   * an outcome and releasing the next delivery, an operator unblocking an endpoint).
   */
  async releaseAll(limit: number): Promise<number> {
    const res = await this.pool.query<{ n: number }>(
      releaseSql(
        `k AS (SELECT DISTINCT endpoint_id, ordering_key FROM webhook_deliveries
                WHERE status = 'held' AND ordering_key IS NOT NULL LIMIT $2)`,
      ),
      [this.channel, limit],
    );
    return res.rows[0]?.n ?? 0;
  }
}
