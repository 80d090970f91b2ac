import type { Channel, ChannelModel } from 'amqplib';
import { BrokerConnection, ConfirmPublisher, declareTopology } from '@reten/broker';
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
  private channel: Channel | undefined;
  private consumerTag: string | undefined;
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
    this.broker = new BrokerConnection({
      url: config.RABBITMQ_URL,
      log,
      heartbeatSeconds: config.RABBITMQ_HEARTBEAT_SECONDS,
      connectionName: `reten-eworker-${definition.name}-${process.pid}`,
      // amqplib recovers the connection only: channel, topology and consumer are rebuilt here
      setup: (model) => this.setupChannels(model),
    });
  }

  get port(): number {
    return this.server?.port ?? this.config.PORT;
  }

  private async setupChannels(model: ChannelModel): Promise<void> {
    const { definition } = this;
    const channel = await model.createChannel();
    channel.on('error', (err: Error) =>
      this.log.warn({ err: err.message }, 'eworker channel error'),
    );
    channel.on('close', () => {
      this.consumer.channelClosed(channel);
      if (this.channel === channel) this.channel = undefined;
    });
    await declareTopology(channel, eworkerTopology(definition.name, definition.types));
    await this.publisher.attach(model);
    await channel.prefetch(this.config.EWORKER_PREFETCH);
    this.channel = channel;
    if (this.lifecycle.state === 'draining' || this.lifecycle.state === 'stopped') return;
    const { consumerTag } = await channel.consume(
      eworkerQueueName(definition.name),
      (msg) => {
        if (msg) this.consumer.push(channel, msg);
      },
      { noAck: false },
    );
    this.consumerTag = consumerTag;
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
      checks: [
        postgresCheck(this.pool),
        stateCheck('rabbitmq', () => (this.channel ? undefined : 'not consuming')),
      ],
      log,
    });
    this.server = await listen(app, config.PORT, config.HOST);
    await this.broker.start();
    this.lifecycle.transition('running');
    log.info({ eworker: definition.name, port: this.server.port }, 'eworker started');
  }

  /** Resolves once the consumer is attached to the queue (or rejects after `timeoutMs`). */
  async waitForConsumer(timeoutMs: number): Promise<void> {
    await this.broker.waitForConnect(timeoutMs);
    const deadline = Date.now() + timeoutMs;
    while (!this.consumerTag && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (!this.consumerTag) throw new Error(`eworker not consuming after ${timeoutMs} ms`);
  }

  /**
   * Graceful stop: finish the batch in progress, then close the connection: the messages
   * still unacked go back to the queue ahead of the rest, exactly as after a crash, and the
   * standby takes over from the first of them. No basic.cancel first: with single active
   * consumer the broker would activate the standby on the later messages while this process
   * still holds earlier ones (order broken).
   */
  async stop(): Promise<void> {
    this.lifecycle.transition('draining');
    await this.consumer.stop();
    await this.broker.stop();
    await this.server?.close(this.config.SHUTDOWN_DRAIN_TIMEOUT_MS);
    await this.pool.end();
    this.lifecycle.transition('stopped');
  }
}
