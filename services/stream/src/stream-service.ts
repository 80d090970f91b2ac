import { Redis } from 'ioredis';
import { WebSocketServer } from 'ws';
import { Authenticator, hasScope, jwtOptionsFromConfig } from '@reten/auth';
import { BrokerConnection } from '@reten/broker';
import { listen } from '@reten/http';
import type { RunningServer } from '@reten/http';
import { Lifecycle, createMetricsRegistry, redactUrl, stateCheck } from '@reten/observability';
import type { Logger, Registry } from '@reten/observability';
import {
  createPool,
  postgresCheck,
  runMigrations,
  StreamBackfillStore,
  TenantRetentionStore,
} from '@reten/store';
import type { Pool } from '@reten/store';
import { createStreamApp } from './app';
import { CLOSE_CODES } from './close-codes';
import type { StreamConfig } from './config';
import { ConnectionHandler } from './connection-handler';
import { createStreamMetrics } from './metrics';
import type { StreamMetrics } from './metrics';
import { originCheck } from './origin-check';
import { StreamQueueConsumer } from './queue-consumer';
import { RedisFanout } from './redis-fanout';
import { RedisWatchdog } from './redis-watchdog';
import { Subscriptions } from './subscriptions';

/** Redis reconnect backoff: fast first retries, capped at 2 s. */
function redisRetry(times: number): number {
  return Math.min(50 * 2 ** Math.min(times, 6), 2000);
}

/** The stream service's object graph: built from config, started and stopped as one. */
export class StreamService {
  readonly lifecycle = new Lifecycle();
  readonly registry: Registry;
  readonly metrics: StreamMetrics;
  readonly pool: Pool;
  readonly authenticator: Authenticator;
  readonly connections: ConnectionHandler;
  private readonly redisPub: Redis;
  private readonly redisSub: Redis;
  private readonly redisWatchdog: RedisWatchdog;
  private readonly broker: BrokerConnection;
  private readonly queueConsumer: StreamQueueConsumer;
  private readonly wss: WebSocketServer;
  private server: RunningServer | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private reauth: NodeJS.Timeout | undefined;
  private stopRevocations: (() => void) | undefined;

  constructor(
    private readonly config: StreamConfig,
    private readonly log: Logger,
  ) {
    this.registry = createMetricsRegistry('stream');
    this.metrics = createStreamMetrics(this.registry);
    this.pool = createPool({
      databaseUrl: config.DATABASE_URL,
      schema: config.DATABASE_SCHEMA,
      max: config.DATABASE_POOL_SIZE,
      statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
      applicationName: 'reten-stream',
    });
    this.pool.on('error', (err) => log.warn({ err: err.message }, 'idle database client error'));
    this.authenticator = new Authenticator({
      pool: this.pool,
      schema: config.DATABASE_SCHEMA,
      jwt: jwtOptionsFromConfig(config, log),
      log,
      registry: this.registry,
      cache: { ttlMs: config.AUTH_KEY_CACHE_TTL_MS },
    });
    const redisOptions = {
      maxRetriesPerRequest: null,
      enableOfflineQueue: true,
      retryStrategy: redisRetry,
      connectTimeout: 5000,
    };
    // commands wait (in order) while Redis is away: the queue consumer relies on it
    this.redisPub = new Redis(config.REDIS_URL, {
      ...redisOptions,
      enableAutoPipelining: true,
      connectionName: 'reten-stream-pub',
    });
    this.redisPub.on('error', (err: Error) =>
      log.debug({ err: err.message }, 'redis publisher error'),
    );
    this.redisSub = new Redis(config.REDIS_URL, {
      ...redisOptions,
      autoResubscribe: false,
      connectionName: 'reten-stream-sub',
    });
    this.redisWatchdog = new RedisWatchdog(
      { subscriber: this.redisSub, publisher: this.redisPub },
      config.STREAM_REDIS_PING_INTERVAL_MS,
      log,
    );
    const store = new StreamBackfillStore(this.pool);
    const retention = new TenantRetentionStore(this.pool, config.RETENTION_EVENTS_DEFAULT_SECONDS);
    const fanout = new RedisFanout(
      this.redisSub,
      config.REDIS_KEY_PREFIX,
      store,
      (client, after, subscribed) => subscriptions.resync(client, after, subscribed),
      this.metrics,
      log,
    );
    const subscriptions = new Subscriptions(
      store,
      fanout,
      {
        backfillPageSize: config.STREAM_BACKFILL_PAGE_SIZE,
        resumeMaxAgeSeconds: config.STREAM_RESUME_MAX_AGE_SECONDS,
        retention: (tenantId) => retention.effective(tenantId),
      },
      log,
    );
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: config.STREAM_MAX_CLIENT_MESSAGE_BYTES,
      perMessageDeflate: false,
      clientTracking: false,
    });
    this.connections = new ConnectionHandler(
      {
        wss: this.wss,
        authenticate: (bearer) => this.authenticator.authenticate(bearer),
        mayStream: (principal) => hasScope(principal, 'stream:read'),
        originAllowed: originCheck(config.STREAM_ALLOWED_ORIGINS),
        subscriptions,
        fanout,
        lifecycle: this.lifecycle,
        metrics: this.metrics,
        log,
      },
      {
        maxConnections: config.STREAM_MAX_CONNECTIONS,
        maxConnectionsPerTenant: config.STREAM_MAX_CONNECTIONS_PER_TENANT,
        pingIntervalMs: config.STREAM_PING_INTERVAL_MS,
        maxSendBufferBytes: config.STREAM_MAX_SEND_BUFFER_BYTES,
        closeGraceMs: config.STREAM_CLOSE_GRACE_MS,
      },
    );
    this.queueConsumer = new StreamQueueConsumer(
      this.redisPub,
      config.REDIS_KEY_PREFIX,
      config.STREAM_CONSUMER_PREFETCH,
      this.metrics,
      log,
    );
    this.broker = new BrokerConnection({
      url: config.RABBITMQ_URL,
      log,
      heartbeatSeconds: config.RABBITMQ_HEARTBEAT_SECONDS,
      connectionName: `reten-stream-${process.pid}`,
      setup: (model) => this.queueConsumer.attach(model),
    });
  }

  get port(): number {
    return this.server?.port ?? this.config.PORT;
  }

  async start(): Promise<void> {
    const { config, log } = this;
    if (config.MIGRATE_ON_START) {
      await runMigrations({
        databaseUrl: config.DATABASE_URL,
        schema: config.DATABASE_SCHEMA,
        log,
      });
    }
    this.stopRevocations = this.authenticator.onRevoked((keyId) => this.connections.revoked(keyId));
    await this.authenticator.start();
    await this.broker.start();
    const app = createStreamApp({
      registry: this.registry,
      lifecycle: this.lifecycle,
      readiness: [
        postgresCheck(this.pool),
        stateCheck('redis', () => this.redisWatchdog.problem()),
        stateCheck('rabbitmq', () => (this.broker.connected ? undefined : 'not connected'), false),
      ],
      log,
    });
    this.server = await listen(app, config.PORT, config.HOST);
    this.server.server.on('upgrade', (req, socket, head) =>
      this.connections.onUpgrade(req, socket, head),
    );
    this.heartbeat = setInterval(
      () => this.connections.heartbeat(),
      config.STREAM_PING_INTERVAL_MS,
    );
    this.heartbeat.unref();
    this.reauth = setInterval(() => {
      this.connections.reauthenticate().catch((err: unknown) => {
        log.warn({ err }, 'stream credential re-check failed');
      });
    }, config.STREAM_REAUTH_INTERVAL_MS);
    this.reauth.unref();
    this.redisWatchdog.start();
    this.lifecycle.transition('running');
    log.info({ port: this.server.port, redis: redactUrl(config.REDIS_URL) }, 'stream listening');
  }

  /**
   * Graceful stop: refuse new upgrades, hand the queue to another replica, close clients with
   * 1012 (they reconnect elsewhere and resume), then close servers and clients.
   */
  async stop(): Promise<void> {
    const deadline = this.config.SHUTDOWN_DRAIN_TIMEOUT_MS;
    this.lifecycle.transition('draining');
    clearInterval(this.heartbeat);
    clearInterval(this.reauth);
    this.redisWatchdog.stop();
    this.stopRevocations?.();
    await this.queueConsumer.stop(deadline);
    await this.connections.closeAll(
      CLOSE_CODES.serviceRestart,
      'service restart: reconnect with last_event_id',
      Math.min(deadline, this.config.STREAM_CLOSE_GRACE_MS),
    );
    await this.server?.close(deadline);
    await this.broker.stop();
    this.redisSub.disconnect();
    this.redisPub.disconnect(); // in-flight publishes were awaited by queueConsumer.stop
    await this.authenticator.stop();
    await this.pool.end();
    this.lifecycle.transition('stopped');
  }
}
