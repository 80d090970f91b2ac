import type { Pool } from 'pg';
import { compactCountDeltas, vacuumCountDeltas } from '@reten/store';
import type { OutageLog } from './outage-log';
import { PeriodicRound } from './periodic-round';

/** Delta rows one statement takes (a second of a busy service is ~50: one per outcome batch). */
const ROWS_PER_STATEMENT = 500;
/** Statements of one round at most: a backlog (after an outage) is worked off over rounds. */
const STATEMENTS_PER_ROUND = 20;
/** Least time between two vacuums of the deltas table by this process (see vacuumCountDeltas). */
const VACUUM_EVERY_MS = 10_000;

/**
 * Adds the count deltas the outcome batches store (`webhook_count_deltas`) to the endpoints'
 * counts every `intervalMs`: one upsert per endpoint and round instead of two per endpoint and
 * batch. What the API shows does not wait for it (its readers add the deltas not compacted
 * yet); it keeps that table small, and vacuums it every VACUUM_EVERY_MS while it compacts.
 * Replicas compact side by side (each statement skips the rows another holds). A failed round
 * is retried at the next; a crash leaves the deltas to the next compaction, by this or another
 * process.
 */
export class CountCompactor extends PeriodicRound {
  /** Whether rows were compacted since the last vacuum, and when that was. */
  private compactedSinceVacuum = false;
  private vacuumedAt = 0;

  constructor(
    private readonly pool: Pool,
    intervalMs: number,
    private readonly state: OutageLog,
    private readonly onCompacted: (rows: number) => void,
  ) {
    super(intervalMs);
  }

  protected async round(): Promise<void> {
    try {
      for (let i = 0; i < STATEMENTS_PER_ROUND; i++) {
        const rows = await compactCountDeltas(this.pool, ROWS_PER_STATEMENT);
        if (rows > 0) {
          this.onCompacted(rows);
          this.compactedSinceVacuum = true;
        }
        if (rows < ROWS_PER_STATEMENT) break;
      }
      // the rows just deleted leave dead space that only a vacuum frees for the next ones
      if (this.compactedSinceVacuum && Date.now() - this.vacuumedAt >= VACUUM_EVERY_MS) {
        this.vacuumedAt = Date.now();
        this.compactedSinceVacuum = false;
        await vacuumCountDeltas(this.pool);
      }
      this.state.succeeded();
    } catch (err) {
      this.state.failed(err);
    }
  }

  /** Stops the timer, then runs a last round (what this process stored, compacted before exit). */
  override async stop(): Promise<void> {
    await super.stop();
    await this.runRound();
  }
}
