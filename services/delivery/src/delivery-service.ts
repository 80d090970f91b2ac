import type { Channel, ConsumeMessage } from 'amqplib';
import { Redis } from 'ioredis';
import { DELIVERY_EVENTS_QUEUE, DELIVERY_QUEUE, DELIVERY_TOPOLOGY } from '@reten/contracts';
import { BrokerConnection, ConfirmPublisher, QueueConsumer } from '@reten/broker';
import { listen, opsApp } from '@reten/http';
import type { RunningServer } from '@reten/http';
import { Lifecycle, createMetricsRegistry, stateCheck } from '@reten/observability';
import type { Logger, Registry } from '@reten/observability';
import {
  clientConfig,
  createPool,
  dispatchChannel,
  PgListener,
  postgresCheck,
  webhookEndpointsChannel,
} from '@reten/store';
import type { Pool } from '@reten/store';
import { AckBatcher } from './ack-batcher';
import { AttemptRunner } from './attempt-runner';
import { CircuitBreaker } from './circuit-breaker';
import { CountCompactor } from './count-compactor';
import { TombstoneSweeper } from './tombstone-sweeper';
import type { DeliveryConfig } from './config';
import { parseScheduleMs } from './config';
import { DeliveryStore, createHotPathPool } from './delivery-store';
import { Dispatcher } from './dispatcher';
import { EndpointCache } from './endpoint-cache';
import { BacklogGate } from './backlog-gate';
import { EndpointLanes } from './endpoint-lanes';
import { KeyOrder } from './key-order';
import { MessageHandler, PoisonMessageError } from './message-handler';
import { createDeliveryMetrics } from './metrics';
import type { DeliveryMetrics } from './metrics';
import { OutageLog } from './outage-log';
import { EndpointRateLimiter } from './rate-limiter';
import { userAgent } from './request-headers';
import { RetryScheduler } from './retry-scheduler';
import { WebhookSender } from './sender';
import { version } from './version';

const RETRY_BACKOFF_MAX_MS = 10_000;
/** Longest wait for each step of closing a client on stop (a stalled server never answers). */
const CLOSE_TIMEOUT_MS = 2_000;
/** How often deleted endpoints' tombstones are swept (see TombstoneSweeper). */
const TOMBSTONE_SWEEP_MS = 60_000;

/** Waits for `promise` at most `ms` (its failure is not the caller's concern: it is closing). */
async function bounded(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.catch(() => undefined),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
  ]);
  clearTimeout(timer);
}

/** The delivery service's object graph: built from config, started and stopped as one. */
export class DeliveryService {
  readonly lifecycle = new Lifecycle();
  readonly registry: Registry;
  private readonly pool: Pool;
  /** The delivery rows' statements (DeliveryStore's hot path), on connections of their own. */
  private readonly hotPool: Pool;
  private readonly redis: Redis;
  private readonly broker: BrokerConnection;
  private readonly publisher: ConfirmPublisher;
  private readonly sender: WebhookSender;
  private readonly handler: MessageHandler;
  private readonly runner: AttemptRunner;
  /** Failing messages (a database or broker outage): logged when it starts and ends, not per retry. */
  private readonly handling: OutageLog;
  private readonly dispatcher: Dispatcher;
  /** Adds the outcome batches' count deltas to the endpoints' counts. */
  private readonly compactor: CountCompactor;
  private readonly sweeper: TombstoneSweeper;
  private readonly listener: PgListener;
  private readonly metrics: DeliveryMetrics;
  /** `reten.delivery`: targeted messages, shared by the replicas. */
  private readonly queue: QueueConsumer;
  /** `reten.delivery.events`: events, one active replica at a time (first attempts in order). */
  private readonly events: QueueConsumer;
  /** Acks finished messages in as few frames as it can (multiple acks). */
  private readonly acks = new AckBatcher();
  private server: RunningServer | undefined;
  private draining = false;

  constructor(
    private readonly config: DeliveryConfig,
    private readonly log: Logger,
  ) {
    this.registry = createMetricsRegistry('delivery');
    const breaker = new CircuitBreaker(
      config.DELIVERY_BREAKER_FAILURES,
      config.DELIVERY_BREAKER_COOLDOWN_MS,
    );
    const lanes = new EndpointLanes(
      {
        min: config.DELIVERY_ENDPOINT_MIN_IN_FLIGHT,
        max: config.DELIVERY_ENDPOINT_MAX_IN_FLIGHT,
        latencyMs: config.DELIVERY_ENDPOINT_LATENCY_MS,
      },
      config.DELIVERY_MAX_IN_FLIGHT,
      config.DELIVERY_ENDPOINT_BACKLOG_MAX,
      // an endpoint whose last attempt failed gets the floor until one succeeds
      (endpointId) => breaker.failing(endpointId),
    );
    this.metrics = createDeliveryMetrics(this.registry, () => lanes.size);
    const poolOptions = {
      databaseUrl: config.DATABASE_URL,
      schema: config.DATABASE_SCHEMA,
      max: config.DATABASE_POOL_SIZE,
      statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
      applicationName: 'reten-delivery',
    };
    this.pool = createPool(poolOptions);
    this.pool.on('error', (err) => log.warn({ err: err.message }, 'idle database client error'));
    this.hotPool = createHotPathPool({ ...poolOptions, applicationName: 'reten-delivery-rows' });
    this.hotPool.on('error', (err) => log.warn({ err: err.message }, 'idle database client error'));
    const store = new DeliveryStore(
      this.pool,
      config.DATABASE_SCHEMA,
      this.hotPool,
      config.DELIVERY_RECORD_BATCH_MS,
    );
    const cache = new EndpointCache(store, config.DELIVERY_ENDPOINT_CACHE_MS);
    this.redis = new Redis(config.REDIS_URL, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: 1000,
    });
    this.redis.on('error', (err: Error) => log.debug({ err: err.message }, 'redis error'));
    this.publisher = new ConfirmPublisher(log);
    const scheduler = new RetryScheduler(this.publisher, config.DELIVERY_CONFIRM_TIMEOUT_MS);
    this.sender = new WebhookSender({
      allowPrivate: config.WEBHOOK_ALLOW_PRIVATE,
      timeoutMs: config.DELIVERY_TIMEOUT_MS,
      connectTimeoutMs: config.DELIVERY_CONNECT_TIMEOUT_MS,
      // the lanes bound what each endpoint uses (its slots); a pool opens connections as needed
      connectionsPerOrigin: config.DELIVERY_ENDPOINT_MAX_IN_FLIGHT,
    });
    const limiterState = new OutageLog({
      log,
      downMessage: 'rate limiter cannot reach redis: sending without limit',
      upMessage: 'rate limiter reaches redis again',
      onFailure: () => this.metrics.errors.inc({ kind: 'rate_limiter' }),
      onChange: (down) => this.metrics.rateLimitFailOpen.set(down ? 1 : 0),
    });
    const outcomeStore = new OutageLog({
      log,
      downMessage: 'attempt outcomes cannot be stored: retrying them, requests are not sent again',
      upMessage: 'attempt outcomes stored again',
      onFailure: () => this.metrics.errors.inc({ kind: 'record' }),
    });
    this.handling = new OutageLog({
      log,
      downMessage: 'delivery messages failing: retrying them in process',
      upMessage: 'delivery messages handled again',
      onFailure: () => this.metrics.errors.inc({ kind: 'handle' }),
    });
    const keyOrder = new KeyOrder(this.pool, config.DATABASE_SCHEMA, this.metrics);
    const runner = new AttemptRunner(
      {
        store,
        keyOrder,
        cache,
        sender: this.sender,
        limiter: new EndpointRateLimiter(
          this.redis,
          config.REDIS_KEY_PREFIX,
          config.DELIVERY_RATE_LIMIT_MAX_WAIT_MS,
          limiterState,
          config.DELIVERY_RATE_LIMIT_LEASE_MS,
          config.DELIVERY_RATE_LIMIT_BATCH_MS,
        ),
        scheduler,
        breaker,
        metrics: this.metrics,
        log,
        outcomeStore,
      },
      {
        defaultScheduleMs: parseScheduleMs(config.DELIVERY_RETRY_SCHEDULE_SECONDS),
        jitterPercent: config.DELIVERY_RETRY_JITTER_PERCENT,
        retryAfterMaxMs: config.DELIVERY_RETRY_AFTER_MAX_SECONDS * 1000,
        disableAfterMs: config.DELIVERY_DISABLE_AFTER_SECONDS * 1000,
        backlogDeferMs: config.DELIVERY_BACKLOG_DEFER_MS,
        userAgent: userAgent(version),
      },
    );
    this.runner = runner;
    this.handler = new MessageHandler(
      store,
      cache,
      lanes,
      runner,
      scheduler,
      new BacklogGate(lanes, config.DELIVERY_BACKLOG_WAIT_MS),
      config.DELIVERY_BACKLOG_DEFER_MS,
      this.metrics,
    );
    this.dispatcher = new Dispatcher(
      store,
      scheduler,
      keyOrder,
      config.DELIVERY_DISPATCH_POLL_MS,
      this.metrics,
      log,
    );
    this.compactor = new CountCompactor(
      this.pool,
      config.DELIVERY_COUNT_COMPACT_MS,
      new OutageLog({
        log,
        downMessage: 'endpoint counts cannot be compacted: retrying, the API still counts exactly',
        upMessage: 'endpoint counts compacted again',
        onFailure: () => this.metrics.errors.inc({ kind: 'count_compaction' }),
      }),
      (rows) => this.metrics.countDeltasCompacted.inc(rows),
    );
    this.sweeper = new TombstoneSweeper(
      this.pool,
      TOMBSTONE_SWEEP_MS,
      new OutageLog({
        log,
        downMessage: 'deleted endpoints cannot be swept: retrying',
        upMessage: 'deleted endpoints swept again',
        onFailure: () => this.metrics.errors.inc({ kind: 'tombstone_sweep' }),
      }),
      log,
      (rows) => this.metrics.tombstoneRowsSwept.inc(rows),
    );
    const schema = config.DATABASE_SCHEMA;
    this.listener = new PgListener({
      name: 'endpoints and requeued deliveries',
      connection: {
        clientConfig: clientConfig({ ...poolOptions, applicationName: 'reten-delivery-listen' }),
      },
      channels: {
        [webhookEndpointsChannel(schema)]: (tenantId) => cache.invalidate(tenantId),
        [dispatchChannel(schema)]: () => this.dispatcher.wake(),
      },
      // a change or a requeue announced while nobody listened was missed
      onListening: () => {
        cache.clear();
        this.dispatcher.wake();
      },
      log,
    });
    this.events = new QueueConsumer({
      queue: DELIVERY_EVENTS_QUEUE,
      topology: DELIVERY_TOPOLOGY,
      prefetch: config.DELIVERY_PREFETCH,
      onMessage: (msg, channel) => this.onMessage(this.events, channel, msg),
      log,
    });
    this.queue = new QueueConsumer({
      queue: DELIVERY_QUEUE,
      prefetch: config.DELIVERY_PREFETCH,
      onMessage: (msg, channel) => this.onMessage(this.queue, channel, msg),
      log,
    });
    this.broker = new BrokerConnection({
      url: config.RABBITMQ_URL,
      log,
      heartbeatSeconds: config.RABBITMQ_HEARTBEAT_SECONDS,
      connectionName: `reten-delivery-${process.pid}`,
      // amqplib recovers the connection only: the publish channel and the consumer are rebuilt
      setup: async (model) => {
        await this.publisher.attach(model);
        // the event queue's channel declares the topology the other consumer needs
        await this.events.attach(model);
        await this.queue.attach(model);
      },
    });
    this.broker.on('connect', () => this.dispatcher.wake());
  }

  get port(): number {
    return this.server?.port ?? this.config.PORT;
  }

  /**
   * Handles a message until it is done, retrying internal failures (database, broker) in
   * process with backoff; acks after. A poison message is dead-lettered to the parked queue.
   * While draining, a failing message is left unacked: the broker redelivers it.
   */
  private async onMessage(
    consumer: QueueConsumer,
    channel: Channel,
    msg: ConsumeMessage,
  ): Promise<void> {
    // first, so that no multiple ack ever covers a message left unacked below
    this.acks.received(channel, msg);
    // stopping: what arrives now stays unacked and goes back, in order, when the channel closes
    if (this.draining) return;
    for (let attempt = 0; ; attempt++) {
      try {
        // stopping: a message not started stays unacked and comes back when the channel closes
        if (!(await this.handler.handle(msg))) return;
        this.handling.succeeded();
        this.acks.ack(channel, msg);
        return;
      } catch (err) {
        if (err instanceof PoisonMessageError) {
          this.metrics.errors.inc({ kind: 'poison' });
          this.log.error(
            { err: err.message, messageId: msg.properties.messageId },
            'message parked',
          );
          this.acks.forget(channel, msg);
          channel.nack(msg, false, false);
          return;
        }
        this.handling.failed(err);
        this.log.debug({ err, attempt }, 'delivery message failed, retrying');
        if (this.draining || !consumer.isCurrent(channel)) return;
        await new Promise((r) => setTimeout(r, Math.min(RETRY_BACKOFF_MAX_MS, 200 * 2 ** attempt)));
        if (this.draining || !consumer.isCurrent(channel)) return;
      }
    }
  }

  async start(): Promise<void> {
    const { config, log } = this;
    await this.redis.connect().catch((err: unknown) => {
      log.warn({ err }, 'redis not reachable at start: rate limits fail open until it is');
    });
    await this.listener.start();
    await this.broker.start();
    this.dispatcher.start();
    this.compactor.start();
    this.sweeper.start();
    const app = opsApp({
      registry: this.registry,
      lifecycle: this.lifecycle,
      checks: [
        postgresCheck(this.pool),
        stateCheck('rabbitmq', () => this.events.problem() ?? this.queue.problem()),
      ],
      log,
    });
    this.server = await listen(app, config.PORT, config.HOST);
    this.lifecycle.transition('running');
    log.info(
      { port: this.server.port, allowPrivate: config.WEBHOOK_ALLOW_PRIVATE },
      'delivery service listening',
    );
  }

  /** Resolves once the consumer is attached, or rejects after `timeoutMs` (tests). */
  async whenConsuming(timeoutMs: number): Promise<void> {
    await this.events.whenConsuming(timeoutMs);
    await this.queue.whenConsuming(timeoutMs);
  }

  /**
   * Graceful stop: stop consuming, let in-flight attempts finish (up to the drain deadline;
   * unfinished messages stay unacked and come back), then close clients. Every step is
   * bounded, whatever the servers do.
   */
  async stop(): Promise<void> {
    this.lifecycle.transition('draining');
    this.draining = true;
    // the drain waits for the requests begun, not for every prefetched message to be sent
    this.handler.stopStarting();
    // the event queue is not cancelled: with a single active consumer a cancel would activate
    // the standby on later events while this process still holds earlier ones; they come back
    // to the standby in order when the channel closes
    this.events.stop();
    await this.queue.cancel(CLOSE_TIMEOUT_MS);
    await Promise.all([
      this.events.drain(this.config.SHUTDOWN_DRAIN_TIMEOUT_MS),
      this.queue.drain(this.config.SHUTDOWN_DRAIN_TIMEOUT_MS),
    ]);
    this.acks.flush();
    await this.events.close(CLOSE_TIMEOUT_MS);
    // past the deadline, outcomes still not stored are logged (their messages come back)
    this.runner.stop();
    await bounded(this.dispatcher.stop(), CLOSE_TIMEOUT_MS);
    await bounded(this.compactor.stop(), CLOSE_TIMEOUT_MS);
    await bounded(this.sweeper.stop(), CLOSE_TIMEOUT_MS);
    await this.server?.close(1000);
    await this.broker.stop();
    await bounded(this.listener.stop(), CLOSE_TIMEOUT_MS);
    await bounded(this.sender.close(), CLOSE_TIMEOUT_MS);
    this.redis.disconnect();
    await bounded(Promise.all([this.pool.end(), this.hotPool.end()]), CLOSE_TIMEOUT_MS);
    this.lifecycle.transition('stopped');
  }
}
