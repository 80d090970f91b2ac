import type { ConfirmPublisher } from '@reten/broker';
import type { Logger } from '@reten/observability';
import { outboxChannel } from '@reten/store';
import type { EventStore } from '@reten/store';
import type { ClientConfig } from 'pg';
import type { RelaySettings } from './config';
import type { RelayMetrics } from './metrics';
import { LeaderLock } from './leader-lock';
import { OutboxRelay } from './outbox-relay';

/**
 * The outbox relay of a schema, with its leader lock on a connection of its own: one builder
 * for whichever process runs the relay (a gateway, or the relay process), so both read the
 * RELAY_* settings alike.
 */
export function buildOutboxRelay(deps: {
  config: RelaySettings;
  lockClientConfig: ClientConfig;
  store: EventStore;
  publisher: ConfirmPublisher;
  metrics: RelayMetrics;
  log: Logger;
}): OutboxRelay {
  const { config, log } = deps;
  const lock = new LeaderLock(
    deps.lockClientConfig,
    `reten.relay.${config.DATABASE_SCHEMA}`,
    outboxChannel(config.DATABASE_SCHEMA),
    log,
  );
  return new OutboxRelay(
    deps.store,
    deps.publisher,
    lock,
    {
      batchSize: config.RELAY_BATCH_SIZE,
      batchMaxBytes: config.RELAY_BATCH_MAX_BYTES,
      pollIntervalMs: config.RELAY_POLL_INTERVAL_MS,
      lockRetryMs: config.RELAY_LOCK_RETRY_MS,
      confirmTimeoutMs: config.RELAY_CONFIRM_TIMEOUT_MS,
      retryDelayMs: config.RELAY_RETRY_DELAY_MS,
      stallAfterMs: config.RELAY_PROGRESS_TIMEOUT_SECONDS * 1000,
      lingerMs: config.RELAY_LINGER_MS,
    },
    deps.metrics,
    log,
  );
}
