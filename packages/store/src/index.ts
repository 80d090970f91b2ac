export { clientConfig, createPool, postgresCheck } from './pool';
export type { Pool, PoolClient, PoolOptions } from './pool';
export { DEFAULT_MIGRATIONS_DIR, runMigrations } from './migrate';
export type { MigrateOptions } from './migrate';
export { newEventId, newPrefixedId } from './ids';
export { EventStore, isNotConnectedError, NotConnectedError, outboxChannel } from './event-store';
export { IdempotencyStore } from './idempotency-store';
export { StreamBackfillStore, streamEnvelopeJson } from './stream-backfill';
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
