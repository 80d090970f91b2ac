import type { Redis } from 'ioredis';
import type { Logger } from '@reten/observability';

interface Watched {
  name: string;
  redis: Redis;
  /** Set when a PING went unanswered; cleared by the next answered one. */
  unresponsive: boolean;
}

/**
 * PINGs the stream's Redis connections. A connection that is up but does not answer within
 * the interval (a stalled link: a dead peer or a dropped route closes nothing) is reported
 * unready and reconnected: the subscriber then resyncs its clients from PostgreSQL, and the
 * publisher resends its unanswered commands, in order, once connected again.
 */
export class RedisWatchdog {
  private readonly watched: Watched[];
  private timer: NodeJS.Timeout | undefined;
  private checking = false;

  constructor(
    connections: Record<string, Redis>,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {
    this.watched = Object.entries(connections).map(([name, redis]) => ({
      name,
      redis,
      unresponsive: false,
    }));
  }

  start(): void {
    this.timer = setInterval(() => void this.check(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Why Redis cannot be relied on now, or undefined when every connection answers. */
  problem(): string | undefined {
    for (const w of this.watched) {
      if (w.redis.status !== 'ready') return `redis ${w.name} ${w.redis.status}`;
      if (w.unresponsive) return `redis ${w.name} does not answer`;
    }
    return undefined;
  }

  private async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      await Promise.all(this.watched.map((w) => this.ping(w)));
    } finally {
      this.checking = false;
    }
  }

  private async ping(w: Watched): Promise<void> {
    if (w.redis.status !== 'ready') return; // reconnecting: the status says so already
    let timer: NodeJS.Timeout | undefined;
    const answered = await Promise.race([
      w.redis.ping().then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), this.intervalMs);
      }),
    ]);
    clearTimeout(timer);
    if (answered) {
      if (w.unresponsive) this.log.info({ connection: w.name }, 'redis answers again');
      w.unresponsive = false;
      return;
    }
    if (!w.unresponsive) {
      this.log.warn({ connection: w.name }, 'redis does not answer, reconnecting');
    }
    w.unresponsive = true;
    if (w.redis.status === 'ready') w.redis.disconnect(true);
  }
}
