import type { Channel } from 'amqplib';
import { encodeEventMessage } from '@reten/broker';
import { createLogger } from '@reten/observability';
import { newEventId } from '@reten/store';
import { loadEworkerConfig } from './config';
import type { EworkerDefinition } from './define-eworker';
import { EworkerService } from './eworker-service';

/** Where a test eworker runs: the test's own schema and vhost. */
export interface TestEworkerTarget {
  databaseUrl: string;
  schema: string;
  rabbitUrl: string;
}

/**
 * For tests: an eworker in this process with short retry timings, silent, consuming once
 * returned. `env` overrides any variable (e.g. a proxied URL for a fault test).
 */
export async function startTestEworker(
  definition: EworkerDefinition,
  target: TestEworkerTarget,
  env: Record<string, string> = {},
): Promise<EworkerService> {
  const config = loadEworkerConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: target.databaseUrl,
    DATABASE_SCHEMA: target.schema,
    DATABASE_POOL_SIZE: '4',
    RABBITMQ_URL: target.rabbitUrl,
    MIGRATE_ON_START: 'false',
    EWORKER_RETRY_BASE_MS: '20',
    EWORKER_RETRY_MAX_MS: '100',
    EWORKER_MAX_ATTEMPTS: '3',
    SHUTDOWN_DRAIN_TIMEOUT_MS: '1000',
    ...env,
  });
  const log = createLogger({ service: `eworker-${definition.name}`, level: 'silent' });
  const service = new EworkerService(definition, config, log);
  await service.start();
  await service.whenConsuming(10_000);
  return service;
}

export interface RelayMessageOptions {
  eventId?: string;
  revision?: number;
  tenantId?: string;
  /** Its place in the event log (default 0: no test event is in a log). */
  seq?: number;
  /** Raw bytes instead of the envelope (a poison message). */
  body?: Buffer;
  /** The W3C trace context the event was accepted under (message headers, as the relay sends). */
  traceparent?: string;
  tracestate?: string;
}

/** For tests: publishes to `reten.events` what the outbox relay publishes; returns the event id. */
export function publishLikeRelay(
  channel: Channel,
  type: string,
  data: unknown,
  options: RelayMessageOptions = {},
): string {
  const eventId = options.eventId ?? newEventId();
  const revision = options.revision ?? 1;
  const now = new Date();
  const message = encodeEventMessage({
    tenantId: options.tenantId ?? 'acme',
    eventId,
    eventType: type,
    revision,
    occurredAt: now,
    receivedAt: now,
    seq: String(options.seq ?? 0),
    dataJson: JSON.stringify(data) ?? 'null',
    traceparent: options.traceparent,
    tracestate: options.tracestate,
  });
  channel.publish(
    message.exchange,
    message.routingKey,
    options.body ?? message.content,
    message.options,
  );
  return eventId;
}
