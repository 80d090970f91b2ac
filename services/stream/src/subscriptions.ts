import { RetenError } from '@reten/contracts';
import type { Logger } from '@reten/observability';
import { createdBefore } from '@reten/store';
import type { StreamBackfillStore, TenantEventsRetention } from '@reten/store';
import { CLOSE_CODES } from './close-codes';
import type { LastEventId } from './protocol';
import type { RedisFanout } from './redis-fanout';
import type { StreamClient } from './stream-client';
import { TypeFilter } from './type-filter';

/** Resume buffer overflows tolerated in one resume before the client counts as too slow. */
const MAX_SEAM_OVERFLOWS = 20;

export interface SubscriptionOptions {
  backfillPageSize: number;
  resumeMaxAgeSeconds: number;
  /** The tenant's events retention window: a resume point before it gets 4410. */
  retention: (tenantId: string) => Promise<TenantEventsRetention>;
}

/**
 * Starts, changes and resumes subscriptions. The seam: join the live channel first (live
 * events are buffered), backfill from PostgreSQL, then flush the buffer minus what the
 * backfill sent: no gap, no duplicate.
 */
export class Subscriptions {
  constructor(
    private readonly store: StreamBackfillStore,
    private readonly fanout: RedisFanout,
    private readonly options: SubscriptionOptions,
    private readonly log: Logger,
  ) {}

  /** The client's first subscription, resuming after `lastEventId` when given. */
  async subscribe(
    client: StreamClient,
    types: string[],
    lastEventId: LastEventId | undefined,
  ): Promise<void> {
    client.subscribedOnce = true;
    client.filter = new TypeFilter(types);
    if (!lastEventId) {
      await this.fanout.join(client);
      if (client.state === 'closed') return;
      client.state = 'live';
      client.sendControl({ type: 'subscribed', types });
      return;
    }
    const position = await this.store.position(
      client.tenantId,
      lastEventId.eventId,
      lastEventId.revision,
    );
    const label = `${lastEventId.eventId}${lastEventId.revision ? `:${lastEventId.revision}` : ''}`;
    // a point retention removed (or is about to: events after it may be gone already) cannot be
    // resumed from without a silent gap
    const kept = await this.options.retention(client.tenantId);
    if (
      (!position && createdBefore(lastEventId.eventId, kept.retainedSince)) ||
      (position && position.receivedAt < kept.retainedSince)
    ) {
      this.refuse(
        client,
        CLOSE_CODES.resumeTooOld,
        'bad_request',
        `last_event_id ${label} is older than this tenant's events retention of ${kept.effectiveSeconds} s; reconnect without it`,
        'last_event_id past retention',
      );
      return;
    }
    if (!position) {
      this.refuse(
        client,
        CLOSE_CODES.resumeUnknown,
        'not_found',
        `last_event_id ${label} is not an event of this tenant`,
        'unknown last_event_id',
      );
      return;
    }
    const ageSeconds = (Date.now() - position.receivedAt.getTime()) / 1000;
    if (ageSeconds > this.options.resumeMaxAgeSeconds) {
      this.refuse(
        client,
        CLOSE_CODES.resumeTooOld,
        'bad_request',
        `last_event_id ${label} is older than the resume window of ${this.options.resumeMaxAgeSeconds} s; reconnect without it`,
        'last_event_id too old',
      );
      return;
    }
    // an event the relay has not taken yet was never streamed: everything after it is still to
    // come, so the client resumes from the newest position (read before joining the channel)
    const after = position.position ?? (await this.store.latestPosition(client.tenantId));
    client.beginResume();
    client.cursor = Number(after);
    await this.fanout.join(client);
    client.sendControl({ type: 'subscribed', types });
    const sent = await this.backfill(client, after);
    if (sent === undefined) return;
    client.sendControl({ type: 'resumed', last_event_id: label, backfilled: sent });
    client.finishResume();
  }

  /** A later `subscribe` message: replaces the filter (live from now, no backfill). */
  changeFilter(client: StreamClient, types: string[]): void {
    const filter = new TypeFilter(types);
    if (client.state === 'resuming') client.pendingFilter = filter;
    else client.filter = filter;
    client.sendControl({ type: 'subscribed', types });
  }

  /**
   * Redis reconnected: buffer live events now, and once `subscribed` resume `client` from
   * `afterPosition` (or, if it is already resuming, make its backfill do one more pass then).
   */
  resync(client: StreamClient, afterPosition: string, subscribed: Promise<void>): void {
    client.resubscribed = subscribed;
    if (client.state === 'resuming') {
      client.resyncRequested = true;
      return;
    }
    if (client.state !== 'live') return;
    client.beginResume();
    this.backfill(client, afterPosition)
      .then((sent) => {
        if (sent !== undefined) client.finishResume();
      })
      .catch((err: unknown) => this.failed(client, err));
  }

  /** Sends every matching event after `afterPosition`, page by page; undefined once closed. */
  private async backfill(client: StreamClient, afterPosition: string): Promise<number | undefined> {
    let cursor = afterPosition;
    let sent = 0;
    for (;;) {
      if (client.resubscribed) {
        // a pass must start after the channel is subscribed again, or it could miss events
        const subscribed = client.resubscribed;
        client.resubscribed = undefined;
        await subscribed;
      }
      client.resyncRequested = false;
      const patterns = client.filter?.patterns ?? ['*'];
      const page = await this.store.after(
        client.tenantId,
        cursor,
        patterns,
        this.options.backfillPageSize,
      );
      for (const event of page) {
        if (!(await client.sendBackfill(event))) return undefined;
        sent += 1;
        cursor = event.position;
      }
      if (client.state !== 'resuming') return undefined;
      if (page.length < this.options.backfillPageSize && !client.resyncRequested) return sent;
      if (client.seamOverflows > MAX_SEAM_OVERFLOWS) {
        client.closeSlow(); // live traffic keeps outrunning what it reads: it cannot catch up
        return undefined;
      }
    }
  }

  private refuse(
    client: StreamClient,
    code: number,
    errorCode: 'not_found' | 'bad_request',
    message: string,
    reason: string,
  ): void {
    client.sendError(new RetenError(errorCode, message));
    client.close(code, reason);
  }

  /** A resume failed (PostgreSQL unreachable…): the client reconnects and resumes later. */
  failed(client: StreamClient, err: unknown): void {
    this.log.warn({ err, tenantId: client.tenantId }, 'stream resume failed');
    client.sendError(
      new RetenError('service_unavailable', 'Resume failed; reconnect with last_event_id'),
    );
    client.close(CLOSE_CODES.internalError, 'resume failed, reconnect with last_event_id');
  }
}
