import type { Pool } from 'pg';
import { compactCountDeltas } from '@reten/store';
import type { OutageLog } from './outage-log';

/** Delta rows one statement takes (a second of a busy service is ~50: one per outcome batch). */
const ROWS_PER_STATEMENT = 500;
/** Statements of one round at most: a backlog (after an outage) is worked off over rounds. */
const STATEMENTS_PER_ROUND = 20;

/**
 * Adds the count deltas the outcome batches store (`webhook_count_deltas`) to the endpoints'
 * counts every `intervalMs`: one upsert per endpoint and round instead of two per endpoint and
 * batch. What the API shows does not wait for it (its readers add the deltas not compacted
 * yet); it keeps that table small. Replicas compact side by side (each statement skips the rows
 * another holds). A failed round is retried at the next; a crash leaves the deltas to the next
 * compaction, by this or another process.
 */
export class CountCompactor {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly intervalMs: number,
    private readonly state: OutageLog,
    private readonly onCompacted: (rows: number) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.runRound(), this.intervalMs);
    this.timer.unref();
  }

  /** Runs a round now unless one is running; resolves when the round it started or found ends. */
  runRound(): Promise<void> {
    this.running ??= this.round().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async round(): Promise<void> {
    try {
      for (let i = 0; i < STATEMENTS_PER_ROUND; i++) {
        const rows = await compactCountDeltas(this.pool, ROWS_PER_STATEMENT);
        if (rows > 0) this.onCompacted(rows);
        if (rows < ROWS_PER_STATEMENT) break;
      }
      this.state.succeeded();
    } catch (err) {
      this.state.failed(err);
    }
  }

  /** Stops the timer, then runs a last round (what this process stored, compacted before exit). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    await this.runRound();
  }
}
