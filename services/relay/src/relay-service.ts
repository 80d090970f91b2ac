import { CORE_TOPOLOGY } from '@reten/contracts';
import { BrokerConnection, ConfirmPublisher, declareTopology } from '@reten/broker';
import { listen, opsApp } from '@reten/http';
import type { RunningServer } from '@reten/http';
import { Lifecycle, createMetricsRegistry, stateCheck } from '@reten/observability';
import type { Logger, Registry } from '@reten/observability';
import { clientConfig, createPool, EventStore, postgresCheck } from '@reten/store';
import type { Pool } from '@reten/store';
import { buildOutboxRelay, createRelayMetrics, registerOutboxGauges } from '@reten/relay';
import type { OutboxRelay } from '@reten/relay';
import type { RelayConfig } from './config';

/**
 * The outbox relay as a process of its own: the same relay the gateway can run in-process
 * (leader lock, commit order, publisher confirms), with `/healthz`, `/readyz` and `/metrics`.
 * Running it apart keeps its queries, publishing and confirms off the gateway's event loop;
 * any number of relay processes (and gateways with `RELAY_ENABLED=true`) may run, one leads.
 */
export class RelayService {
  readonly lifecycle = new Lifecycle();
  readonly registry: Registry;
  private readonly pool: Pool;
  private readonly broker: BrokerConnection;
  private readonly relay: OutboxRelay;
  private server: RunningServer | undefined;

  constructor(
    private readonly config: RelayConfig,
    private readonly log: Logger,
  ) {
    this.registry = createMetricsRegistry('relay');
    const metrics = createRelayMetrics(this.registry);
    const poolOptions = {
      databaseUrl: config.DATABASE_URL,
      schema: config.DATABASE_SCHEMA,
      max: config.DATABASE_POOL_SIZE,
      statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
      applicationName: 'reten-relay',
    };
    this.pool = createPool(poolOptions);
    this.pool.on('error', (err) => log.warn({ err: err.message }, 'idle database client error'));
    const store = new EventStore(this.pool, config.DATABASE_SCHEMA);
    registerOutboxGauges(this.registry, () => store.outboxLag());
    const publisher = new ConfirmPublisher(log);
    this.broker = new BrokerConnection({
      url: config.RABBITMQ_URL,
      log,
      heartbeatSeconds: config.RABBITMQ_HEARTBEAT_SECONDS,
      connectionName: `reten-relay-${process.pid}`,
      setup: async (model) => {
        const channel = await publisher.attach(model);
        await declareTopology(channel, CORE_TOPOLOGY);
      },
    });
    this.relay = buildOutboxRelay({
      config,
      lockClientConfig: clientConfig({ ...poolOptions, applicationName: 'reten-relay-lock' }),
      store,
      publisher,
      metrics,
      log,
    });
    this.broker.on('connect', () => this.relay.wake());
  }

  get port(): number {
    return this.server?.port ?? this.config.PORT;
  }

  get active(): boolean {
    return this.relay.active;
  }

  async start(): Promise<void> {
    const { config, log } = this;
    await this.broker.start();
    this.relay.start();
    const app = opsApp({
      registry: this.registry,
      lifecycle: this.lifecycle,
      checks: [
        postgresCheck(this.pool),
        stateCheck(
          'rabbitmq',
          () => (this.broker.connected ? undefined : 'not connected'),
          config.READY_REQUIRES_BROKER,
        ),
        // a relay stuck while the broker is reachable will not heal by itself: ask for a restart
        stateCheck('relay', () => (this.broker.connected ? this.relay.stallProblem() : undefined)),
      ],
      log,
    });
    this.server = await listen(app, config.PORT, config.HOST);
    this.lifecycle.transition('running');
    log.info({ port: this.server.port }, 'relay listening');
  }

  /**
   * Graceful stop within `SHUTDOWN_DRAIN_TIMEOUT_MS`: the current round finishes (or is
   * abandoned at the deadline: the next leader republishes what was not marked), the lock is
   * released, clients close.
   */
  async stop(): Promise<void> {
    const deadline = Date.now() + this.config.SHUTDOWN_DRAIN_TIMEOUT_MS;
    const left = () => Math.max(0, deadline - Date.now());
    this.lifecycle.transition('draining');
    await this.relay.stop(left());
    await this.broker.stop(left());
    await this.server?.close(left());
    await Promise.race([
      this.pool.end().catch(() => undefined),
      new Promise((resolve) => setTimeout(resolve, left()).unref()),
    ]);
    this.lifecycle.transition('stopped');
  }
}
