import { CORE_TOPOLOGY } from '@reten/contracts';
import { BrokerConnection, ConfirmPublisher, declareTopology } from '@reten/broker';
import { listen } from '@reten/http';
import { Authenticator, TenantStore, jwtOptionsFromConfig } from '@reten/auth';
import type { Redis } from 'ioredis';
import type { RunningServer } from '@reten/http';
import type { Express } from 'express';
import { Lifecycle, createMetricsRegistry, stateCheck } from '@reten/observability';
import type { Logger, Registry } from '@reten/observability';
import {
  clientConfig,
  createPool,
  EventStore,
  eworkerRegistryChannel,
  IdempotencyStore,
  postgresCheck,
  RetentionRunner,
  retentionOptionsOf,
  runMigrations,
  TenantRetentionStore,
  WebhookDeliveryRepo,
  WebhookEndpointRepo,
} from '@reten/store';
import type { Pool } from '@reten/store';
import { buildOutboxRelay, registerOutboxGauges } from '@reten/relay';
import type { OutboxRelay } from '@reten/relay';
import { createApp } from './app';
import { rateLimitRedis, redisReady } from './access/rate-limit-redis';
import { TenantLimitsCache } from './access/tenant-limits-cache';
import type { GatewayConfig } from './config';
import { EventWriter } from './ingest/event-writer';
import { Ingestor } from './ingest/ingestor';
import { createGatewayMetrics } from './metrics';
import type { GatewayMetrics } from './metrics';
import { buildOpenApiDocument } from './openapi';
import { version } from './version';
import { EworkerQueries } from './eworkers-api/eworker-queries';
import { QueueInspector } from './eworkers-api/queue-inspector';
import { SchemaRegistry } from './validation/schema-registry';
import { WebhookTimelineRepo } from './webhooks/stats-timeline';
import { EventRevisionsRepo } from './events/event-revisions';

/** The gateway's object graph: built from config, started and stopped as one. */
export class Gateway {
  readonly lifecycle = new Lifecycle();
  readonly registry: Registry;
  readonly pool: Pool;
  readonly store: EventStore;
  readonly authenticator: Authenticator;
  readonly tenants: TenantStore;
  private readonly tenantLimits: TenantLimitsCache;
  private readonly redis: Redis | undefined;
  private readonly broker: BrokerConnection;
  private readonly writer: EventWriter;
  private readonly relay: OutboxRelay;
  private readonly idempotency: IdempotencyStore;
  private readonly metrics: GatewayMetrics;
  /** Eworker schemas (validation), marks and queues. */
  private readonly schemas: SchemaRegistry;
  private readonly eworkerQueries: EworkerQueries;
  private readonly queueInspector = new QueueInspector();
  private readonly publisher: ConfirmPublisher;
  /** The express app once started (tests enumerate its routes). */
  app: Express | undefined;
  private server: RunningServer | undefined;
  /** Partitions ahead, expired data out (one replica at a time); absent: RETENTION_ENABLED=false. */
  private readonly retention: RetentionRunner | undefined;
  private readonly tenantRetention: TenantRetentionStore;

  constructor(
    private readonly config: GatewayConfig,
    private readonly log: Logger,
  ) {
    this.registry = createMetricsRegistry('gateway');
    const metrics = createGatewayMetrics(this.registry);
    this.metrics = metrics;
    const poolOptions = {
      databaseUrl: config.DATABASE_URL,
      schema: config.DATABASE_SCHEMA,
      max: config.DATABASE_POOL_SIZE,
      statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
      applicationName: 'reten-gateway',
    };
    this.pool = createPool(poolOptions);
    this.pool.on('error', (err) => log.warn({ err: err.message }, 'idle database client error'));
    this.store = new EventStore(this.pool, config.DATABASE_SCHEMA);
    this.authenticator = new Authenticator({
      pool: this.pool,
      schema: config.DATABASE_SCHEMA,
      jwt: jwtOptionsFromConfig(config, log),
      log,
      registry: this.registry,
      cache: { ttlMs: config.AUTH_KEY_CACHE_TTL_MS },
    });
    this.tenants = new TenantStore(this.pool, config.DATABASE_SCHEMA);
    this.tenantLimits = new TenantLimitsCache(this.tenants, config.TENANT_LIMITS_CACHE_TTL_MS, log);
    this.redis = config.RATE_LIMIT_ENABLED
      ? rateLimitRedis(config.REDIS_URL, config.RATE_LIMIT_REDIS_TIMEOUT_MS, log)
      : undefined;
    registerOutboxGauges(this.registry, () => this.store.outboxLag());
    const publisher = new ConfirmPublisher(log);
    this.publisher = publisher;
    this.schemas = new SchemaRegistry({
      pool: this.pool,
      clientConfig: clientConfig({ ...poolOptions, applicationName: 'reten-schemas' }),
      channel: eworkerRegistryChannel(config.DATABASE_SCHEMA),
      pollIntervalMs: config.EVENT_SCHEMA_POLL_INTERVAL_MS,
      log,
    });
    this.eworkerQueries = new EworkerQueries(this.pool);
    this.broker = new BrokerConnection({
      url: config.RABBITMQ_URL,
      log,
      heartbeatSeconds: config.RABBITMQ_HEARTBEAT_SECONDS,
      connectionName: `reten-gateway-${process.pid}`,
      setup: async (model) => {
        const channel = await publisher.attach(model);
        this.queueInspector.attach(model);
        await declareTopology(channel, CORE_TOPOLOGY);
      },
    });
    this.relay = buildOutboxRelay({
      config,
      lockClientConfig: clientConfig({ ...poolOptions, applicationName: 'reten-relay' }),
      store: this.store,
      publisher,
      metrics,
      log,
    });
    this.broker.on('connect', () => this.relay.wake());
    this.writer = new EventWriter(
      this.store,
      {
        maxBatch: config.INGEST_MAX_BATCH,
        maxConcurrentFlushes: config.INGEST_MAX_CONCURRENT_FLUSHES,
      },
      metrics,
      log,
    );
    this.idempotency = new IdempotencyStore(
      this.pool,
      config.IDEMPOTENCY_KEY_TTL_SECONDS,
      config.IDEMPOTENCY_LOCK_TIMEOUT_SECONDS,
    );
    const retention = retentionOptionsOf(config);
    this.tenantRetention = new TenantRetentionStore(
      this.pool,
      config.RETENTION_EVENTS_DEFAULT_SECONDS,
    );
    this.retention = config.RETENTION_ENABLED
      ? new RetentionRunner(
          this.pool,
          clientConfig({ ...poolOptions, applicationName: 'reten-retention' }),
          config.DATABASE_SCHEMA,
          retention,
          log,
          this.registry,
        )
      : undefined;
  }

  get port(): number {
    return this.server?.port ?? this.config.PORT;
  }

  get relayActive(): boolean {
    return this.relay.active;
  }

  async start(): Promise<void> {
    const { config, log } = this;
    if (config.MIGRATE_ON_START) {
      await runMigrations({
        databaseUrl: config.DATABASE_URL,
        schema: config.DATABASE_SCHEMA,
        log,
        partitionSeconds: config.RETENTION_PARTITION_SECONDS,
      });
    }
    await this.authenticator.start();
    if (this.redis && !(await redisReady(this.redis, 2000))) {
      log.warn('redis not reachable at start: rate limits fail open until it is');
    }
    await this.schemas.start();
    await this.broker.start();
    // the stack runs the relay as its own process (services/relay); a lone gateway runs it here
    if (config.RELAY_ENABLED) this.relay.start();
    this.retention?.start();
    const deliveries = new WebhookDeliveryRepo(this.pool, config.DATABASE_SCHEMA);
    const { app, listener } = createApp({
      ingestor: new Ingestor(this.writer, this.idempotency, this.metrics, this.schemas),
      store: this.store,
      // an event's status per eworker comes from its marks, per webhook from its delivery attempts
      statusReaders: {
        eworkers: (tenantId, e) => this.eworkerQueries.statusOf(tenantId, e),
        webhooks: (tenantId, e) => deliveries.statusOfEvent(tenantId, e.eventId, e.revision),
      },
      registry: this.registry,
      lifecycle: this.lifecycle,
      readiness: [
        postgresCheck(this.pool),
        stateCheck(
          'rabbitmq',
          () => (this.broker.connected ? undefined : 'not connected'),
          config.READY_REQUIRES_BROKER,
        ),
        // a relay stuck while the broker is reachable will not heal by itself: ask for a restart
        stateCheck('relay', () => (this.broker.connected ? this.relay.stallProblem() : undefined)),
      ],
      openApiDocument: buildOpenApiDocument(version),
      bodyLimitBytes: config.BODY_LIMIT_BYTES,
      log,
      authenticator: this.authenticator,
      idempotency: this.idempotency,
      webhooks: {
        endpoints: new WebhookEndpointRepo(this.pool, config.DATABASE_SCHEMA),
        deliveries,
        store: this.store,
        policy: {
          allowPrivate: config.WEBHOOK_ALLOW_PRIVATE,
          allowHttp: config.WEBHOOK_ALLOW_HTTP || config.WEBHOOK_ALLOW_PRIVATE,
        },
        rotationGraceSeconds: config.WEBHOOK_SECRET_GRACE_PERIOD_SECONDS,
      },
      webhookTimeline: new WebhookTimelineRepo(this.pool),
      eventRevisions: new EventRevisionsRepo(this.pool),
      eworkers: {
        queries: this.eworkerQueries,
        inspector: this.queueInspector,
        publisher: this.publisher,
        confirmTimeoutMs: config.RELAY_CONFIRM_TIMEOUT_MS,
      },
      tenants: this.tenants,
      tenantLimits: this.tenantLimits,
      retention: {
        tenants: this.tenantRetention,
        minSeconds: config.RETENTION_EVENTS_MIN_SECONDS,
        maxSeconds: config.RETENTION_EVENTS_MAX_SECONDS,
      },
      rateLimits: this.redis && {
        redis: this.redis,
        keyPrefix: `${config.REDIS_KEY_PREFIX}rl:`,
        leaseBlocks: config.RATE_LIMIT_LEASE_BLOCKS,
        settings: {
          restRequests: config.RATE_LIMIT_REST_REQUESTS,
          restWindowSeconds: config.RATE_LIMIT_REST_WINDOW_SECONDS,
          ingestRequests: config.RATE_LIMIT_INGEST_REQUESTS,
          ingestWindowSeconds: config.RATE_LIMIT_INGEST_WINDOW_SECONDS,
        },
      },
    });
    this.app = app;
    this.server = await listen(listener, config.PORT, config.HOST, {
      headersTimeoutMs: config.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS,
    });
    this.lifecycle.transition('running');
    log.info({ port: this.server.port }, 'gateway listening');
  }

  /**
   * Graceful stop: unready, finish requests and pending commits, stop the relay, close clients,
   * all within `SHUTDOWN_DRAIN_TIMEOUT_MS` whatever the servers do: a step still waiting at the
   * deadline is abandoned (the process exits next; a relay round left unmarked is republished).
   */
  async stop(): Promise<void> {
    const deadline = Date.now() + this.config.SHUTDOWN_DRAIN_TIMEOUT_MS;
    const left = () => Math.max(0, deadline - Date.now());
    this.lifecycle.transition('draining');
    await this.server?.close(left());
    if (!(await settlesWithin(this.writer.drain(), left())))
      this.log.warn('pending commits abandoned at stop');
    await this.relay.stop(left());
    if (!(await settlesWithin(this.retention?.stop() ?? Promise.resolve(), left())))
      this.log.warn('retention run abandoned at stop');
    await this.broker.stop(left());
    this.redis?.disconnect();
    const clients = (async () => {
      await this.authenticator.stop();
      await this.schemas.stop();
      await this.pool.end();
    })();
    if (!(await settlesWithin(clients, left())))
      this.log.warn('database clients abandoned at stop');
    this.lifecycle.transition('stopped');
  }
}

/** Whether `promise` settled (either way) within `ms`; it is not waited for past that. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const settled = promise.then(
    () => true as const,
    () => true as const,
  );
  try {
    return await Promise.race([settled, late]);
  } finally {
    clearTimeout(timer);
  }
}
