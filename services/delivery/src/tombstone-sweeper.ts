import type { Pool } from 'pg';
import { ENDPOINT_TOMBSTONE_GRACE_MS, sweepEndpointTombstones } from '@reten/store';
import type { Logger } from '@reten/observability';
import type { OutageLog } from './outage-log';
import { PeriodicRound } from './periodic-round';

/** Tombstones one statement takes; a round goes on while statements find that many. */
const TOMBSTONES_PER_STATEMENT = 100;
const STATEMENTS_PER_ROUND = 10;

/**
 * Sweeps deleted endpoints' tombstones every `intervalMs` (sweepEndpointTombstones): deletes
 * what a batch that found an endpoint just before its deletion stored of it, once no such batch
 * can still be running. Replicas sweep side by side (each tombstone once).
 */
export class TombstoneSweeper extends PeriodicRound {
  constructor(
    private readonly pool: Pool,
    intervalMs: number,
    private readonly state: OutageLog,
    private readonly log: Logger,
    private readonly onSwept: (rows: number) => void,
    private readonly graceMs = ENDPOINT_TOMBSTONE_GRACE_MS,
  ) {
    super(intervalMs);
  }

  protected async round(): Promise<void> {
    try {
      for (let i = 0; i < STATEMENTS_PER_ROUND; i++) {
        const swept = await sweepEndpointTombstones(
          this.pool,
          this.graceMs,
          TOMBSTONES_PER_STATEMENT,
        );
        if (swept.rows > 0) {
          this.onSwept(swept.rows);
          this.log.info(
            { tombstones: swept.tombstones, rows: swept.rows },
            'rows of deleted endpoints stored while they were being deleted, deleted',
          );
        }
        if (swept.tombstones < TOMBSTONES_PER_STATEMENT) break;
      }
      this.state.succeeded();
    } catch (err) {
      this.state.failed(err);
    }
  }
}
