import type { Pool } from 'pg';
import { ENDPOINT_TOMBSTONE_GRACE_MS, sweepEndpointTombstones } from '@reten/store';
import type { Logger } from '@reten/observability';
import type { OutageLog } from './outage-log';

/** Tombstones one statement takes; a round goes on while statements find that many. */
const TOMBSTONES_PER_STATEMENT = 100;
const STATEMENTS_PER_ROUND = 10;

/**
 * Sweeps deleted endpoints' tombstones every `intervalMs` (sweepEndpointTombstones): deletes
 * what a batch that found an endpoint just before its deletion stored of it, once no such batch
 * can still be running. Replicas sweep side by side (each tombstone once).
 */
export class TombstoneSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly intervalMs: number,
    private readonly state: OutageLog,
    private readonly log: Logger,
    private readonly onSwept: (rows: number) => void,
    private readonly graceMs = ENDPOINT_TOMBSTONE_GRACE_MS,
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

  /** Stops the timer and waits for a round in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
