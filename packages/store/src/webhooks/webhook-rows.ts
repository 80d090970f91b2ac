import type { WebhookAttempt, WebhookDelivery } from '@reten/contracts';

/**
 * The rows of the webhook tables (infra/postgres/migrations/1732700000000_webhooks.sql), one
 * type per table, as `pg` returns them. A query that reads fewer columns types its rows as a
 * `Pick` of these, so a column's type is written once.
 */
export interface WebhookEndpointRecord {
  id: string;
  tenant_id: string;
  url: string;
  description: string;
  event_types: string[];
  enabled: boolean;
  disabled_reason: string | null;
  rate_limit_per_second: number;
  headers: Record<string, string>;
  retry_schedule_seconds: number[] | null;
  signing: 'hmac' | 'ed25519';
  secret: string | null;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
  public_key: string | null;
  private_key: string | null;
  failing_since: Date | null;
  on_failure: 'skip' | 'block';
  created_at: Date;
  updated_at: Date;
}

export interface WebhookDeliveryRecord {
  id: string;
  tenant_id: string;
  endpoint_id: string;
  event_id: string;
  revision: number;
  event_type: string;
  /** bigint: pg returns it as a string. */
  event_seq: string;
  status: WebhookDelivery['status'];
  attempts: number;
  token: string | null;
  last_status_code: number | null;
  last_error: string | null;
  last_attempt_at: Date | null;
  next_attempt_at: Date | null;
  dispatch_requested_at: Date | null;
  /** The event's ordering key (copied at insert); null: the event has none. */
  ordering_key: string | null;
  /** A failed delivery of a `block` endpoint: its key stays held. */
  holds_key: boolean;
  created_at: Date;
}

export interface WebhookAttemptRecord {
  /** bigint identity: pg returns it as a string. */
  id: string;
  tenant_id: string;
  delivery_id: string;
  endpoint_id: string;
  attempt: number;
  started_at: Date;
  latency_ms: number;
  succeeded: boolean;
  status_code: number | null;
  phase: WebhookAttempt['phase'];
  error: string | null;
  response_excerpt: string | null;
}

/** `a, b` → `d.a, d.b`: a column list qualified by a table alias. */
export function qualified(columns: string, alias: string): string {
  return columns
    .split(', ')
    .map((c) => `${alias}.${c}`)
    .join(', ');
}

/** A webhook endpoint as the delivery service needs it (secrets included). */
export interface EndpointForDelivery {
  id: string;
  tenantId: string;
  url: string;
  eventTypes: string[];
  enabled: boolean;
  rateLimitPerSecond: number;
  headers: Record<string, string>;
  retryScheduleSeconds: number[] | null;
  signing: 'hmac' | 'ed25519';
  secret: string | null;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
  privateKey: string | null;
  /** What a finally failed delivery does to the later events of its ordering key. */
  onFailure: 'skip' | 'block';
}

/** One (endpoint, event revision) delivery row. `token` names the one message allowed to act on it. */
export interface DeliveryRow {
  id: string;
  tenantId: string;
  endpointId: string;
  eventId: string;
  revision: number;
  eventType: string;
  eventSeq: string;
  status: WebhookDeliveryRecord['status'];
  attempts: number;
  token: string | null;
  /**
   * True when no row is stored yet: the first attempt of an event without an ordering key goes
   * out before its row exists, and its outcome is stored by inserting the row (see
   * DeliveryAttemptRepo.recordFirstMany). The id is `deliveryIdOf(...)`, the one the row gets.
   */
  unsaved?: boolean;
  /**
   * With `unsaved`: as far as this process knows no copy of the row can exist (the relay's
   * first publish of the event, not redelivered, and not stored by this process since), so its
   * first attempt inserts it without checking for one first. A row found after all fails that
   * insert, which then runs with the check (recordFirstMany): a wrong `fresh` costs a statement,
   * never a row.
   */
  fresh?: boolean;
}

/** The token of a delivery row created by the fan-out of a published event. */
export const INITIAL_TOKEN = 'initial';
