import type { Redis } from 'ioredis';
import { lagSeconds } from '@reten/observability';
import type { Logger } from '@reten/observability';
import type { StreamBackfillStore } from '@reten/store';
import type { StreamMetrics } from './metrics';
import { decodeLiveEvent, tenantChannel } from './redis-message';
import type { StreamClient } from './stream-client';

interface TenantChannel {
  name: string;
  clients: Set<StreamClient>;
  subscribed: Promise<void>;
  /**
   * Newest stream position dispatched to this replica's clients: where they resume after a
   * Redis cut (the channel carries positions in increasing order, bar redeliveries).
   */
  lastPosition: number;
}

/**
 * Every replica's side of the fan-out: SUBSCRIBEs to a tenant's channel while it has clients,
 * relays each event to them, and after a Redis reconnect resumes them from PostgreSQL
 * (messages published while disconnected are lost by pub/sub).
 */
export class RedisFanout {
  private readonly channels = new Map<string, TenantChannel>();
  private readonly byName = new Map<string, TenantChannel>();
  private disconnected = false;

  constructor(
    private readonly sub: Redis,
    private readonly prefix: string,
    private readonly store: StreamBackfillStore,
    private readonly onResync: (
      client: StreamClient,
      afterPosition: string,
      subscribed: Promise<void>,
    ) => void,
    private readonly metrics: StreamMetrics,
    private readonly log: Logger,
  ) {
    sub.on('messageBuffer', (channel: Buffer, payload: Buffer) =>
      this.dispatch(channel.toString(), payload),
    );
    sub.on('close', () => {
      if (!this.disconnected) log.warn('redis subscriber disconnected');
      this.disconnected = true;
    });
    sub.on('ready', () => {
      if (!this.disconnected) return;
      this.disconnected = false;
      this.resync();
    });
    sub.on('error', (err: Error) => log.debug({ err: err.message }, 'redis subscriber error'));
  }

  get connected(): boolean {
    return this.sub.status === 'ready';
  }

  /** Adds a client to its tenant's channel; resolves once the SUBSCRIBE is active. */
  async join(client: StreamClient): Promise<void> {
    let channel = this.channels.get(client.tenantId);
    if (!channel) {
      const name = tenantChannel(this.prefix, client.tenantId);
      const created: TenantChannel = {
        name,
        clients: new Set(),
        lastPosition: 0,
        subscribed: Promise.resolve(),
      };
      // the starting cursor is read before subscribing: a resync may resend, never skip
      created.subscribed = this.store.latestPosition(client.tenantId).then(async (position) => {
        created.lastPosition = Math.max(created.lastPosition, Number(position));
        await this.sub.subscribe(name);
      });
      created.subscribed.catch(() => undefined);
      channel = created;
      this.channels.set(client.tenantId, channel);
      this.byName.set(name, channel);
    }
    channel.clients.add(client);
    try {
      await channel.subscribed;
    } catch (err) {
      this.leave(client);
      throw err;
    }
    if (client.state === 'closed') {
      this.leave(client); // it closed while the subscription was being set up
      return;
    }
    // a live client starts after what this replica dispatched already (a resuming one's cursor
    // is its resume point, which its backfill moves on)
    if (client.state !== 'resuming' && client.cursor < channel.lastPosition) {
      client.cursor = channel.lastPosition;
    }
  }

  /** Removes a client; the last one out unsubscribes the channel. */
  leave(client: StreamClient): void {
    const channel = this.channels.get(client.tenantId);
    if (!channel?.clients.delete(client) || channel.clients.size > 0) return;
    this.channels.delete(client.tenantId);
    this.byName.delete(channel.name);
    this.sub.unsubscribe(channel.name).catch((err: unknown) => {
      this.log.warn({ err, channel: channel.name }, 'redis unsubscribe failed');
    });
  }

  private dispatch(name: string, payload: Buffer): void {
    const channel = this.byName.get(name);
    if (!channel) return;
    const event = decodeLiveEvent(payload);
    if (!event) {
      this.log.warn({ channel: name }, 'unreadable stream message dropped');
      return;
    }
    // a redelivered copy (relay republish, consumer hand-over) comes after newer positions:
    // each client drops what is at or before its cursor
    if (event.position > channel.lastPosition) channel.lastPosition = event.position;
    let sent = 0;
    for (const client of channel.clients) if (client.deliverLive(event)) sent += 1;
    if (sent > 0) {
      this.metrics.messagesOut.inc(sent);
      const now = Date.now();
      this.metrics.fanoutLatency.observe(lagSeconds(event.publishedAtMs, now));
      if (event.receivedAtMs !== undefined) {
        this.metrics.streamLag.observe(lagSeconds(event.receivedAtMs, now));
      }
    }
  }

  /**
   * After a reconnect: every client starts buffering from the newest event it was sent (fixed
   * now: messages can arrive with the SUBSCRIBE reply, before any continuation runs), then the
   * channel is subscribed again, then each client resumes from PostgreSQL.
   */
  private resync(): void {
    this.metrics.redisResyncs.inc();
    this.log.info(
      { channels: this.channels.size },
      'redis subscriber reconnected, resuming clients',
    );
    for (const channel of [...this.channels.values()]) {
      const cursors = [...channel.clients].map(
        (client) => [client, String(Math.max(channel.lastPosition, client.cursor))] as const,
      );
      const subscribed = this.sub.subscribe(channel.name).then(() => undefined);
      subscribed.catch((err: unknown) => {
        this.log.warn({ err, channel: channel.name }, 'redis resubscribe failed');
      });
      for (const [client, after] of cursors) this.onResync(client, after, subscribed);
    }
  }
}
