import { BrokerConnection, ConfirmPublisher, QueueConsumer } from '@reten/broker';
import { eworkerQueueName, eworkerTopology } from '@reten/contracts';
import { listen, opsApp } from '@reten/http';
import type { RunningServer } from '@reten/http';
import { Lifecycle, createMetricsRegistry, stateCheck } from '@reten/observability';
import type { Logger, Registry } from '@reten/observability';
import { createPool, postgresCheck, runMigrations } from '@reten/store';
import type { Pool } from '@reten/store';
import type { EworkerConfig } from './config';
import type { EworkerDefinition } from './define-eworker';
import { InOrderConsumer } from './in-order-consumer';
import { createEworkerMetrics, registerBufferedGauge } from './metrics';
import { Parker } from './parker';
import { registerEworker } from './registration';

/** Longest wait for the broker to confirm the consume channel's close on stop. */
const CLOSE_TIMEOUT_MS = 2_000;

/**
 * One eworker process's object graph, built from explicit config so tests run exactly what
 * `runEworker` runs: registration, the queue consumer, health and metrics endpoints.
 */
export class EworkerService {
  readonly lifecycle = new Lifecycle();
  readonly registry: Registry;
  readonly pool: Pool;
  private readonly broker: BrokerConnection;
  private readonly publisher: ConfirmPublisher;
  private readonly consumer: InOrderConsumer;
  private readonly queue: QueueConsumer;
  private server: RunningServer | undefined;

  constructor(
    readonly definition: EworkerDefinition,
    private readonly config: EworkerConfig,
    private readonly log: Logger,
  ) {
    this.registry = createMetricsRegistry(`eworker-${definition.name}`);
    const metrics = createEworkerMetrics(this.registry);
    this.pool = createPool({
      databaseUrl: config.DATABASE_URL,
      schema: config.DATABASE_SCHEMA,
      max: config.DATABASE_POOL_SIZE,
      statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
      applicationName: `reten-eworker-${definition.name}`,
    });
    this.pool.on('error', (err) => log.warn({ err: err.message }, 'idle database client error'));
    const publisher = new ConfirmPublisher(log);
    this.publisher = publisher;
    this.consumer = new InOrderConsumer(
      definition,
      this.pool,
      new Parker(definition.name, publisher, config.EWORKER_PARK_CONFIRM_TIMEOUT_MS),
      {
        maxBatch: config.EWORKER_MAX_BATCH,
        maxAttempts: config.EWORKER_MAX_ATTEMPTS,
        retryBaseMs: config.EWORKER_RETRY_BASE_MS,
        retryMaxMs: config.EWORKER_RETRY_MAX_MS,
      },
      metrics,
      log,
      this.registry,
    );
    registerBufferedGauge(this.registry, definition.name, () => this.consumer.buffered);
    this.queue = new QueueConsumer({
      queue: eworkerQueueName(definition.name),
      topology: eworkerTopology(definition.name, definition.types),
      prefetch: config.EWORKER_PREFETCH,
      onMessage: (msg, channel) => this.consumer.push(channel, msg),
      onChannelClosed: (channel) => this.consumer.channelClosed(channel),
      log,
    });
    this.broker = new BrokerConnection({
      url: config.RABBITMQ_URL,
      log,
      heartbeatSeconds: config.RABBITMQ_HEARTBEAT_SECONDS,
      connectionName: `reten-eworker-${definition.name}-${process.pid}`,
      // amqplib recovers the connection only: the publish channel and the consumer are rebuilt
      setup: async (model) => {
        await this.publisher.attach(model);
        await this.queue.attach(model);
      },
    });
  }

  get port(): number {
    return this.server?.port ?? this.config.PORT;
  }

  async start(): Promise<void> {
    const { config, log, definition } = this;
    if (config.MIGRATE_ON_START) {
      await runMigrations({
        databaseUrl: config.DATABASE_URL,
        schema: config.DATABASE_SCHEMA,
        log,
      });
    }
    const changed = await registerEworker(this.pool, config.DATABASE_SCHEMA, definition);
    log.info({ eworker: definition.name, types: definition.types, changed }, 'eworker registered');
    const app = opsApp({
      registry: this.registry,
      lifecycle: this.lifecycle,
      checks: [postgresCheck(this.pool), stateCheck('rabbitmq', () => this.queue.problem())],
      log,
    });
    this.server = await listen(app, config.PORT, config.HOST);
    await this.broker.start();
    this.lifecycle.transition('running');
    log.info({ eworker: definition.name, port: this.server.port }, 'eworker started');
  }

  /** Resolves once the consumer is attached to the queue, or rejects after `timeoutMs`. */
  async whenConsuming(timeoutMs: number): Promise<void> {
    await this.queue.whenConsuming(timeoutMs);
  }

  /**
   * Graceful stop: attach no consumer on a reconnect, finish the batch in progress, then close
   * the channel and the connection: the messages still unacked go back to the queue ahead of
   * the rest, exactly as after a crash, and the standby takes over from the first of them. No basic.cancel first: with single active
   * consumer the broker would activate the standby on the later messages while this process
   * still holds earlier ones (order broken).
   */
  async stop(): Promise<void> {
    this.lifecycle.transition('draining');
    this.queue.stop();
    await this.consumer.stop();
    await this.queue.close(CLOSE_TIMEOUT_MS);
    await this.broker.stop();
    await this.server?.close(this.config.SHUTDOWN_DRAIN_TIMEOUT_MS);
    await this.pool.end();
    this.lifecycle.transition('stopped');
  }
}
