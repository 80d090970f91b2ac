/**
 * Every PostgreSQL NOTIFY channel Reten uses, in one list. A channel is its prefix followed by
 * the database schema, so several Reten installations (and every test's own schema) can share
 * one server without hearing each other. The SQL that fires a channel (queries here and the
 * triggers in infra/postgres/migrations) must use these prefixes; notify-channels.test.ts
 * checks that the migrations name no other channel.
 */
export const NOTIFY_CHANNEL_PREFIXES = {
  /** New outbox rows: wakes the relay. Payload empty. */
  outbox: 'reten_outbox_',
  /** An API key was revoked: key caches drop it. Payload: the key id. */
  apiKeys: 'reten_api_keys_',
  /** An eworker registered or changed its schemas: the gateway reloads them. Payload empty. */
  eworkerRegistry: 'reten_eworkers_',
  /** A webhook endpoint row changed (fired by a trigger). Payload: the tenant id. */
  webhookEndpoints: 'reten_webhooks_',
  /** Deliveries were requeued by hand (retry, replay): wakes the dispatcher. Payload empty. */
  deliveries: 'reten_deliveries_',
} as const;

export type NotifyChannelName = keyof typeof NOTIFY_CHANNEL_PREFIXES;

/** The channel `name` of a schema's installation. */
export function notifyChannel(name: NotifyChannelName, schema: string): string {
  return `${NOTIFY_CHANNEL_PREFIXES[name]}${schema}`;
}

/** The NOTIFY channel the relay listens on, one per schema. */
export function outboxChannel(schema: string): string {
  return notifyChannel('outbox', schema);
}

/** The NOTIFY channel on which revocations of a schema's keys are announced (payload: key id). */
export function apiKeyChannel(schema: string): string {
  return notifyChannel('apiKeys', schema);
}

/** The NOTIFY channel on which eworker registrations announce a change. */
export function eworkerRegistryChannel(schema: string): string {
  return notifyChannel('eworkerRegistry', schema);
}

/** The NOTIFY channel a webhook endpoint change fires (payload: tenant id). */
export function webhookEndpointsChannel(schema: string): string {
  return notifyChannel('webhookEndpoints', schema);
}

/** The NOTIFY channel that wakes the delivery dispatcher (manual retries, replays). */
export function dispatchChannel(schema: string): string {
  return notifyChannel('deliveries', schema);
}
