export { clientConfig, createPool, postgresCheck } from './pool';
export type { Pool, PoolClient, PoolOptions } from './pool';
export { DEFAULT_MIGRATIONS_DIR, runMigrations } from './migrate';
export type { MigrateOptions } from './migrate';
export { deliveryIdOf, newEventId, newPrefixedId } from './ids';
export { EventStore, isNotConnectedError, NotConnectedError } from './event-store';
export { databaseTroubleOf, databaseUnavailableError } from './database-errors';
export {
  apiKeyChannel,
  dispatchChannel,
  eworkerRegistryChannel,
  NOTIFY_CHANNEL_PREFIXES,
  notifyChannel,
  outboxChannel,
  webhookEndpointsChannel,
} from './notify-channels';
export type { NotifyChannelName } from './notify-channels';
export { PgListener } from './pg-listener';
export type { PgListenerOptions } from './pg-listener';
export { IdempotencyStore } from './idempotency-store';
export { SystemEventStore } from './system-events';
export { WebhookEndpointRepo } from './webhooks/endpoint-repo';
export type { EndpointChange, NewEndpoint } from './webhooks/endpoint-repo';
export { MAX_REPLAY, WebhookDeliveryRepo } from './webhooks/delivery-repo';
export { AttemptTimelineRepo } from './webhooks/attempt-timeline';
export { compactCountDeltas, vacuumCountDeltas } from './webhooks/count-deltas';
export {
  ENDPOINT_TOMBSTONE_GRACE_MS,
  sweepEndpointTombstones,
} from './webhooks/endpoint-tombstones';
export type { AttemptBucketCount } from './webhooks/attempt-timeline';
export { DeliveryAttemptRepo } from './webhooks/delivery-attempts';
export type {
  AttemptFacts,
  AttemptOutcome,
  EnsureItem,
  RecordItem,
} from './webhooks/delivery-attempts';
export { DeliveryDispatchQueue } from './webhooks/delivery-dispatch';
export { DeliveryKeyOrder } from './webhooks/key-order';
export type { DispatchItem } from './webhooks/delivery-dispatch';
export { INITIAL_TOKEN } from './webhooks/webhook-rows';
export type {
  DeliveryRow,
  EndpointForDelivery,
  WebhookAttemptRecord,
  WebhookDeliveryRecord,
  WebhookEndpointRecord,
} from './webhooks/webhook-rows';
export { StreamBackfillStore } from './stream-backfill';
export type { StreamEvent, StreamPosition } from './stream-backfill';
export type { IdempotencyClaim } from './idempotency-store';
export { toOutboxRow } from './event-rows';
export type {
  EventListFilter,
  IdempotencyCompletion,
  NewEventRow,
  OutboxRecord,
  OutboxRow,
  StoredEvent,
} from './event-rows';
export { eventKeyAt, timeOfEventKey } from './retention/event-key';
export { Partitions } from './retention/partitions';
export type {
  DroppedPartition,
  KeyKind,
  PartitionInfo,
  RetentionTable,
} from './retention/partitions';
export {
  ensurePartitionsAhead,
  partitionsAheadMs,
  RetentionRunner,
} from './retention/retention-runner';
export type {
  PartitionSettings,
  RetentionOptions,
  RetentionPeriods,
  RetentionReport,
} from './retention/retention-runner';
export {
  retentionConfig,
  retentionEventsDefaultConfig,
  retentionOptionsOf,
  retentionPartitionConfig,
} from './retention/retention-config';
export type { RetentionSettings } from './retention/retention-config';
export { createdBefore, TenantRetentionStore } from './retention/tenant-retention';
export type { TenantEventsRetention } from './retention/tenant-retention';
