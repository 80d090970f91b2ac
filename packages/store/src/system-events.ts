import type { Pool } from 'pg';
import { ENDPOINT_DISABLED_EVENT_TYPE } from '@reten/contracts';
import { newEventId } from './ids';
import { outboxChannel } from './notify-channels';

/**
 * Events Reten itself emits (`reten.*` types), written into the same event log as ingested
 * events so the relay publishes them like any other: the state change and its event commit
 * in one statement, so neither exists without the other.
 */
export class SystemEventStore {
  private readonly outbox: string;

  constructor(
    private readonly pool: Pool,
    schema: string,
  ) {
    this.outbox = outboxChannel(schema);
  }

  /**
   * Disables an endpoint with a reason and, in the same statement, inserts the
   * `reten.endpoint.disabled` event into the log (in the endpoint's tenant).
   * Returns true when this call disabled it (the event exists once).
   */
  async disableEndpoint(endpointId: string, reason: string): Promise<boolean> {
    const res = await this.pool.query(
      `WITH e AS (
         UPDATE webhook_endpoints SET enabled = false, disabled_reason = $2, updated_at = now()
          WHERE id = $1 AND enabled RETURNING tenant_id, id, url)
       INSERT INTO events (tenant_id, event_id, revision, event_type, occurred_at, data)
       SELECT tenant_id, $3, 1, $4, now(),
              jsonb_build_object('webhook_id', id, 'url', url, 'reason', $2::text)
         FROM e`,
      [endpointId, reason, newEventId(), ENDPOINT_DISABLED_EVENT_TYPE],
    );
    if ((res.rowCount ?? 0) === 0) return false;
    // wakes the relay at once rather than at its next poll
    await this.pool.query('SELECT pg_notify($1, $2)', [this.outbox, '']);
    return true;
  }
}
