import { DeliveryKeyOrder } from '@reten/store';
import type { Pool } from '@reten/store';
import type { DeliveryRow } from './endpoint';
import type { DeliveryMetrics } from './metrics';
import { MicroBatch } from './micro-batch';

const BATCH_MAX = 200;

/** One ordering key of one endpoint: the unit of order. */
export interface OrderingKeyOf {
  endpointId: string;
  orderingKey: string;
}

/**
 * Per-(endpoint, key) order of deliveries, kept in PostgreSQL so that it survives a crash and
 * holds across replicas: only the oldest unfinished delivery of a key (its head) is attempted;
 * a later one is stored `held`, without a message, and queued through the dispatcher when it
 * becomes the head (the head succeeded, or finally failed on a `skip` endpoint).
 */
export class KeyOrder {
  private readonly repo: DeliveryKeyOrder;
  // concurrent attempts share one statement each (the pool is shared with every other write)
  private readonly holdBatch = new MicroBatch<
    { deliveryId: string; eventId: string; token: string | null },
    OrderingKeyOf | undefined
  >((items) => this.repo.holdUnlessHead(items), BATCH_MAX);
  private readonly releaseBatch = new MicroBatch<OrderingKeyOf, undefined>(async (keys) => {
    await this.repo.release(keys);
    return keys.map(() => undefined);
  }, BATCH_MAX);

  constructor(
    pool: Pool,
    schema: string,
    private readonly metrics: DeliveryMetrics,
  ) {
    this.repo = new DeliveryKeyOrder(pool, schema);
  }

  /**
   * Holds the delivery when it is not the head of its key; true when held (its message is
   * done). A head that ended meanwhile is seen by the release that follows the hold.
   */
  async hold(row: DeliveryRow, token: string | null, key: OrderingKeyOf): Promise<boolean> {
    const held = await this.holdBatch.call({ deliveryId: row.id, eventId: row.eventId, token });
    if (!held) return false;
    this.metrics.deferred.inc({ reason: 'key_held' });
    await this.releaseBatch.call(key);
    return true;
  }

  /** Before a final failure is recorded: whether the failed delivery keeps its key held. */
  async setHoldsKey(row: DeliveryRow, token: string | null, holdsKey: boolean): Promise<void> {
    await this.repo.setHoldsKey(row, token, holdsKey);
  }

  /** After the head of a key ended: queues the next held delivery of the key, if any. */
  async release(key: OrderingKeyOf): Promise<void> {
    await this.releaseBatch.call(key);
  }

  /** Releases every held head (fallback after a crash, or keys an operator unblocked). */
  releaseAll(limit: number): Promise<number> {
    return this.repo.releaseAll(limit);
  }
}
