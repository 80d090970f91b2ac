import { encodeEventReplay } from '@reten/broker';
import type { ConfirmPublisher } from '@reten/broker';
import { eworkerQueueName } from '@reten/contracts';
import { RetenError } from '@reten/contracts';
import type { OutboxRow } from '@reten/store';
import type { EworkerQueries } from './eworker-queries';

/** Most revisions one replay request sends back (call again for more). */
export const MAX_REPLAY_BATCH = 1000;

/**
 * Replays a tenant's parked revisions of one eworker, in event order, straight into the
 * eworker's queue (default exchange; other consumers of the type are not disturbed).
 * Consistency: PostgreSQL is the source of truth. Marks go `failed → replaying` BEFORE the
 * publish (so the eworker, which processes only unmarked or `replaying` revisions, cannot
 * skip a replayed message), and back to `failed` when the broker does not confirm. A crash in
 * between leaves `replaying` marks, which the next replay sends again; a revision sent twice
 * is processed once (marks dedupe). The `.parked` queue is an operator's copy and is not
 * consumed by replay.
 */
export async function replayParked(
  queries: EworkerQueries,
  publisher: ConfirmPublisher,
  tenantId: string,
  eworker: string,
  confirmTimeoutMs: number,
): Promise<OutboxRow[]> {
  const rows = await queries.parked(tenantId, eworker, MAX_REPLAY_BATCH);
  if (rows.length === 0) return rows;
  await queries.setReplayState(tenantId, eworker, rows, 'replaying');
  const queue = eworkerQueueName(eworker);
  try {
    await publisher.publishBatch(
      rows.map((row) => encodeEventReplay(row, queue)),
      confirmTimeoutMs,
    );
  } catch (err) {
    await queries.setReplayState(tenantId, eworker, rows, 'failed').catch(() => undefined);
    throw new RetenError(
      'service_unavailable',
      'The broker did not confirm the replay; the events stay parked, retry',
      undefined,
      { cause: err },
    );
  }
  return rows;
}
