import amqplib from 'amqplib';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import { encodeEventMessage } from '@reten/broker';
import type { EventMessage } from '@reten/broker';
import { EVENTS_EXCHANGE, eventEnvelopeJson } from '@reten/contracts';
import { EventStore, newEventId, newPrefixedId } from '@reten/store';
import {
  createTestSchema,
  createTestVhost,
  silentLogger,
  testServers,
  uniqueName,
} from '@reten/testing';
import type { TestSchema, TestVhost } from '@reten/testing';
import type { Logger } from '@reten/observability';
import { generateEd25519KeyPair, generateSecret } from '@reten/webhooks';
import { loadDeliveryConfig } from './config';
import { DeliveryService } from './delivery-service';

export interface TestEndpointOptions {
  url: string;
  tenantId?: string;
  eventTypes?: string[];
  rateLimitPerSecond?: number;
  retryScheduleSeconds?: number[] | null;
  headers?: Record<string, string>;
  signing?: 'hmac' | 'ed25519';
  enabled?: boolean;
  onFailure?: 'skip' | 'block';
}

export interface TestEndpoint {
  id: string;
  secret: string | null;
  publicKey: string | null;
}

export interface PublishedEvent {
  eventId: string;
  revision: number;
  /** The envelope JSON exactly as published. */
  json: string;
  /** Its position in the event log. */
  seq: string;
  /** What the message was encoded from (republished as it is). */
  message: EventMessage;
}

export interface TestDelivery {
  service: DeliveryService;
  schema: TestSchema;
  vhost: TestVhost;
  /** Inserts an endpoint row as the gateway would. */
  createEndpoint(options: TestEndpointOptions): Promise<TestEndpoint>;
  /** Stores an event and publishes it to `reten.events` as the relay does. */
  publish(
    type: string,
    data: unknown,
    tenantId?: string,
    options?: { orderingKey?: string },
  ): Promise<PublishedEvent>;
  /**
   * Stores events in one statement and publishes them in the given order (one confirm wait),
   * as the relay publishes a batch.
   */
  publishMany(
    events: { type: string; data: unknown; tenantId?: string; orderingKey?: string }[],
  ): Promise<PublishedEvent[]>;
  /**
   * Publishes the message of an event again, as the relay may (at least once): as a retried
   * round, without `x-reten-first-publish`, unless `firstPublish` (which no relay does; a broker
   * could only let such a copy overtake the retried one).
   */
  republish(event: PublishedEvent, options?: { firstPublish?: boolean }): Promise<void>;
  /** Stops the service (e.g. to start another one on the same schema/vhost). */
  stopService(): Promise<void>;
  /** Starts a new service on the same schema, vhost and Redis prefix. */
  restartService(): Promise<void>;
  /** Starts one more replica (same schema, vhost, Redis prefix); closed with the fixture. */
  addReplica(): Promise<DeliveryService>;
  /** Publishes raw bytes to `reten.events` (bad messages). */
  publishRaw(routingKey: string, content: Buffer, headers: Record<string, unknown>): Promise<void>;
  /** Messages waiting in a queue of the test's vhost. */
  queueDepth(queue: string): Promise<number>;
  close(): Promise<void>;
}

/** The value of a counter of the service's registry whose label `label` is `value` (0 when none). */
export async function counterValue(
  d: TestDelivery,
  metric: string,
  label: string,
  value: string,
): Promise<number> {
  const found = await d.service.registry.getSingleMetric(metric)?.get();
  return found?.values.find((v) => v.labels[label] === value)?.value ?? 0;
}

/**
 * A real delivery service in this process against the real PostgreSQL (own schema), RabbitMQ
 * (own vhost) and Redis (own key prefix); `env` overrides config (short schedules, timeouts).
 */
export async function startTestDelivery(
  title: string,
  options: {
    env?: Record<string, string>;
    rabbitUrl?: (url: string) => string;
    /** Rewrites the service's database URL (e.g. through a TcpProxy); the fixture's own pool is direct. */
    databaseUrl?: (url: string) => string;
    /** Rewrites the service's Redis URL (e.g. through a TcpProxy). */
    redisUrl?: (url: string) => string;
    log?: Logger;
    /** false: no service in this process (the test starts its own, e.g. as processes). */
    inProcess?: boolean;
  } = {},
): Promise<TestDelivery> {
  const servers = await testServers();
  const schema = await createTestSchema(title);
  const vhost = await createTestVhost(title);
  const prefix = `${uniqueName(title)}:`;
  const build = () =>
    new DeliveryService(
      loadDeliveryConfig({
        PORT: '0',
        HOST: '127.0.0.1',
        DATABASE_URL: options.databaseUrl
          ? options.databaseUrl(schema.databaseUrl)
          : schema.databaseUrl,
        DATABASE_SCHEMA: schema.schema,
        DATABASE_POOL_SIZE: '5',
        RABBITMQ_URL: options.rabbitUrl ? options.rabbitUrl(vhost.url) : vhost.url,
        REDIS_URL: options.redisUrl ? options.redisUrl(servers.redisUrl) : servers.redisUrl,
        REDIS_KEY_PREFIX: prefix,
        WEBHOOK_ALLOW_PRIVATE: 'true',
        SHUTDOWN_DRAIN_TIMEOUT_MS: '2000',
        DELIVERY_DISPATCH_POLL_MS: '200',
        DELIVERY_RETRY_JITTER_PERCENT: '0',
        ...options.env,
      }),
      options.log ?? silentLogger(),
    );
  let service = build();
  if (options.inProcess !== false) {
    await service.start();
    await service.whenConsuming(15_000);
  }
  const connection: ChannelModel = await amqplib.connect(vhost.url);
  // a loaded machine can miss heartbeats: the next publish fails the test, not an unhandled event
  connection.on('error', () => undefined);
  const channel: ConfirmChannel = await connection.createConfirmChannel();
  const events = new EventStore(schema.pool, schema.schema);
  /** What the relay does once the broker confirmed them: marks them published (and any below). */
  const markPublished = async (eventIds: string[]): Promise<void> => {
    const { rows } = await schema.pool.query<{ position: string | null }>(
      'SELECT max(stream_position)::text AS position FROM events WHERE event_id = ANY($1::text[])',
      [eventIds],
    );
    if (rows[0]?.position) await events.markPublishedThrough(rows[0].position);
  };
  let stopped = options.inProcess === false;
  const replicas: DeliveryService[] = [];
  /**
   * Publishes an event message to `reten.events` as the relay does, and waits for its confirm:
   * a first publish as in the relay's steady state, unless it repeats one.
   */
  const sendEvent = async (event: EventMessage, firstPublish = true) => {
    const m = encodeEventMessage(event, firstPublish);
    channel.publish(m.exchange, m.routingKey, m.content, m.options);
    await channel.waitForConfirms();
  };
  return {
    get service() {
      return service;
    },
    schema,
    vhost,
    async createEndpoint(o) {
      const id = newPrefixedId('wh');
      const keys = o.signing === 'ed25519' ? generateEd25519KeyPair() : undefined;
      const secret = keys ? null : generateSecret();
      await schema.pool.query(
        `INSERT INTO webhook_endpoints (id, tenant_id, url, event_types, enabled, rate_limit_per_second,
           headers, retry_schedule_seconds, signing, secret, public_key, private_key, on_failure)
         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11, $12, $13)`,
        [
          id,
          o.tenantId ?? 'dev',
          o.url,
          o.eventTypes ?? [],
          o.enabled ?? true,
          o.rateLimitPerSecond ?? 100,
          JSON.stringify(o.headers ?? {}),
          o.retryScheduleSeconds ?? null,
          o.signing ?? 'hmac',
          secret,
          keys?.publicKey ?? null,
          keys?.privateKey ?? null,
          o.onFailure ?? 'skip',
        ],
      );
      return { id, secret, publicKey: keys?.publicKey ?? null };
    },
    async publish(type, data, tenantId = 'dev', options = {}) {
      const eventId = newEventId();
      const occurredAt = new Date();
      const dataJson = JSON.stringify(data);
      const { orderingKey } = options;
      const [seq] = await events.insertBatch(
        [{ tenantId, eventId, revision: 1, eventType: type, occurredAt, dataJson, orderingKey }],
        [],
      );
      const message: EventMessage = {
        tenantId,
        eventId,
        eventType: type,
        revision: 1,
        occurredAt,
        receivedAt: occurredAt,
        seq: String(seq),
        dataJson,
        orderingKey,
      };
      await sendEvent(message);
      const json = eventEnvelopeJson(message);
      const published = { eventId, revision: 1, json, seq: String(seq), message };
      await markPublished([eventId]);
      return published;
    },
    async publishMany(list) {
      const occurredAt = new Date();
      const rows = list.map((e) => ({
        tenantId: e.tenantId ?? 'dev',
        eventId: newEventId(),
        revision: 1,
        eventType: e.type,
        occurredAt,
        dataJson: JSON.stringify(e.data),
        orderingKey: e.orderingKey,
      }));
      const seqs = await events.insertBatch(rows, []);
      const published = rows.map((r, i) => {
        const message: EventMessage = {
          ...r,
          receivedAt: occurredAt,
          seq: String(seqs[i]),
        };
        return {
          eventId: r.eventId,
          revision: 1,
          json: eventEnvelopeJson(message),
          seq: String(seqs[i]),
          message,
        };
      });
      for (const p of published) {
        const m = encodeEventMessage(p.message, true);
        channel.publish(m.exchange, m.routingKey, m.content, m.options);
      }
      await channel.waitForConfirms();
      await markPublished(published.map((p) => p.eventId));
      return published;
    },
    async republish(event, options = {}) {
      await sendEvent(event.message, options.firstPublish ?? false);
    },
    async stopService() {
      if (!stopped) await service.stop();
      stopped = true;
    },
    async restartService() {
      if (!stopped) await service.stop();
      service = build();
      await service.start();
      await service.whenConsuming(15_000);
      stopped = false;
    },
    async addReplica() {
      const replica = build();
      await replica.start();
      await replica.whenConsuming(15_000);
      replicas.push(replica);
      return replica;
    },
    async publishRaw(routingKey, content, headers) {
      channel.publish(EVENTS_EXCHANGE, routingKey, content, { persistent: true, headers });
      await channel.waitForConfirms();
    },
    async queueDepth(queue) {
      return (await channel.checkQueue(queue)).messageCount;
    },
    async close() {
      for (const r of replicas) await r.stop();
      if (!stopped) await service.stop();
      await connection.close().catch(() => undefined);
      await schema.drop();
      await vhost.drop();
    },
  };
}
