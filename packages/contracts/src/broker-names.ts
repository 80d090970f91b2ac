/** RabbitMQ names and arguments: declared by packages/broker and in infra/rabbitmq/definitions.json. */
export const EVENTS_EXCHANGE = 'reten.events';

/** Header names on every message published to `reten.events`. */
export const MESSAGE_HEADERS = {
  tenant: 'x-reten-tenant',
  revision: 'x-reten-revision',
  seq: 'x-reten-seq',
  /** The revision's place in publish order: what stream resume goes by. */
  streamPosition: 'x-reten-stream-position',
  /** The event's ordering key; absent when it has none. */
  orderingKey: 'x-reten-ordering-key',
  /** W3C Trace Context of the ingest request, under the names the spec gives them; absent when none. */
  traceparent: 'traceparent',
  tracestate: 'tracestate',
  /** When the gateway accepted the revision, epoch milliseconds: what the lag histograms measure from. */
  receivedAt: 'x-reten-received-at',
  /**
   * Set (to 1) by the relay on a message it publishes for the first time: no copy of it can
   * have been published before (see OutboxRelay). Absent on a republished round, after a
   * failed publish, after a change of leader, and from relays older than the header.
   */
  firstPublish: 'x-reten-first-publish',
} as const;

export interface ExchangeDeclaration {
  name: string;
  type: 'topic' | 'direct' | 'fanout';
  durable: boolean;
}

export interface QueueDeclaration {
  name: string;
  durable: boolean;
  arguments: Record<string, string | number | boolean>;
}

export interface BindingDeclaration {
  exchange: string;
  queue: string;
  routingKey: string;
}

export interface Topology {
  exchanges: ExchangeDeclaration[];
  queues: QueueDeclaration[];
  bindings: BindingDeclaration[];
  /** Bindings of earlier versions to remove (after `bindings` are declared). */
  unbindings?: BindingDeclaration[];
}

/** The topology every service declares on each (re)connect. Consumers add their own queues. */
export const CORE_TOPOLOGY: Topology = {
  exchanges: [{ name: EVENTS_EXCHANGE, type: 'topic', durable: true }],
  queues: [],
  bindings: [],
};

/** Prefix of every eworker queue: `reten.eworker.<name>`. */
export const EWORKER_QUEUE_PREFIX = 'reten.eworker.';

/** Eworker names: lower-case letters, digits and `-`, 1 to 64 characters. */
export const EWORKER_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;

/**
 * Redeliveries the broker allows per message on an eworker queue. Eworkers retry in process
 * and never requeue, so only crashes count: a message that killed this many consumers in a
 * row is dead-lettered (at least once) to the parked queue rather than crash-looping every
 * replica. Set explicitly because RabbitMQ 4 defaults to 20.
 */
export const EWORKER_DELIVERY_LIMIT = 50;

/** Parked copies kept per eworker; the oldest is dropped beyond this (PostgreSQL keeps the marks). */
export const EWORKER_PARKED_MAX_LENGTH = 100_000;

/** The work queue of an eworker. */
export function eworkerQueueName(name: string): string {
  return `${EWORKER_QUEUE_PREFIX}${name}`;
}

/** Where an eworker copies the messages it gave up on. */
export function eworkerParkedQueueName(name: string): string {
  return `${EWORKER_QUEUE_PREFIX}${name}.parked`;
}

/**
 * An eworker's queues: `reten.eworker.<name>` (quorum, single active consumer, bound to each
 * of its event types, dead-lettering a message past the delivery limit to the parked queue;
 * `reject-publish` keeps that dead-lettering at-least-once) and `reten.eworker.<name>.parked`
 * (quorum, an operator's copy of what was parked; the failed marks in PostgreSQL are what the
 * API counts and replays).
 */
export function eworkerTopology(name: string, types: readonly string[]): Topology {
  if (!EWORKER_NAME_PATTERN.test(name)) throw new Error(`invalid eworker name: ${name}`);
  const queue = eworkerQueueName(name);
  return {
    exchanges: [...CORE_TOPOLOGY.exchanges],
    queues: [
      {
        name: queue,
        durable: true,
        arguments: {
          'x-queue-type': 'quorum',
          'x-single-active-consumer': true,
          'x-delivery-limit': EWORKER_DELIVERY_LIMIT,
          'x-overflow': 'reject-publish',
          'x-dead-letter-exchange': '',
          'x-dead-letter-routing-key': eworkerParkedQueueName(name),
          'x-dead-letter-strategy': 'at-least-once',
        },
      },
      {
        name: eworkerParkedQueueName(name),
        durable: true,
        arguments: {
          'x-queue-type': 'quorum',
          'x-delivery-limit': EWORKER_DELIVERY_LIMIT,
          'x-max-length': EWORKER_PARKED_MAX_LENGTH,
        },
      },
    ],
    bindings: types.map((type) => ({ exchange: EVENTS_EXCHANGE, queue, routingKey: type })),
  };
}

/** Set on a message the gateway republishes from the parked marks (`POST …/parked/replay`). */
export const EWORKER_REPLAY_HEADER = 'x-reten-replay';

/** The client-log eworker (`services/eworkers/logs`) and the one type it handles. */
export const LOGS_EWORKER = { name: 'logs', types: ['log:ClientLog'] } as const;

/** The stream service's queue: every event, consumed by one replica at a time (SAC). */
export const STREAM_QUEUE = 'reten.stream';

/**
 * `reten.stream`: quorum, single active consumer (one replica publishes to Redis, in order),
 * bound to `#`. No dead-lettering: the consumer never nacks, it retries in process, so the
 * delivery limit only counts consumer crashes.
 */
export const STREAM_TOPOLOGY: Topology = {
  exchanges: [{ name: EVENTS_EXCHANGE, type: 'topic', durable: true }],
  queues: [
    {
      name: STREAM_QUEUE,
      durable: true,
      arguments: {
        'x-queue-type': 'quorum',
        'x-single-active-consumer': true,
        'x-delivery-limit': 50,
      },
    },
  ],
  bindings: [{ exchange: EVENTS_EXCHANGE, queue: STREAM_QUEUE, routingKey: '#' }],
};

/**
 * The delivery service's queue of targeted messages (retries, manual retries, replays, held
 * deliveries released), shared by every replica; it also drains event messages routed to it
 * before `reten.delivery.events` existed.
 */
export const DELIVERY_QUEUE = 'reten.delivery';

/**
 * The delivery service's event queue: every event, fanned out to the matching endpoints by one
 * replica at a time (single active consumer), so the first attempts of an ordering key start in
 * publish order whatever the number of replicas.
 */
export const DELIVERY_EVENTS_QUEUE = 'reten.delivery.events';

/** Where `reten.delivery` dead-letters a message that crashed consumers too often. */
export const DELIVERY_PARKED_QUEUE = 'reten.delivery.parked';

/** Redeliveries allowed per message on the delivery queues (crashes only; set explicitly). */
export const DELIVERY_QUEUES_REDELIVERY_LIMIT = 50;

/**
 * Retry tiers: one TTL queue per delay, dead-lettering back to `reten.delivery`. A retry due
 * in `d` ms hops through the largest tier ≤ the time left until it is due, so any delay
 * (jitter, `Retry-After`, per-endpoint schedules) is composed of these, nothing waits in
 * memory, and a restart loses nothing.
 */
export const DELIVERY_RETRY_TIERS_MS: readonly number[] = [
  100, 1_000, 5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 10_800_000, 21_600_000,
  43_200_000,
];

/** `reten.delivery.retry.<delay>`, e.g. `reten.delivery.retry.30s`. */
export function deliveryRetryQueueName(delayMs: number): string {
  const label =
    delayMs % 3_600_000 === 0
      ? `${delayMs / 3_600_000}h`
      : delayMs % 60_000 === 0
        ? `${delayMs / 60_000}m`
        : delayMs % 1000 === 0
          ? `${delayMs / 1000}s`
          : `${delayMs}ms`;
  return `${DELIVERY_QUEUE}.retry.${label}`;
}

/** Headers of a targeted message on `reten.delivery` (a retry, a manual retry or a replay). */
export const DELIVERY_HEADERS = {
  deliveryId: 'x-reten-delivery-id',
  token: 'x-reten-delivery-token',
  dueAt: 'x-reten-due-at',
} as const;

/**
 * `reten.delivery.events` (quorum, single active consumer, bound to `#`), `reten.delivery`
 * (quorum, targeted messages; no longer bound: deployments before the event queue had it bound
 * to `#`, which the delivery service removes), both dead-lettering poison messages at least once
 * to `reten.delivery.parked`, the parked queue, and the retry tiers (quorum, TTL, dead-lettered
 * at least once back to `reten.delivery`; `reject-publish` keeps the dead-lettering
 * at-least-once).
 */
export const DELIVERY_TOPOLOGY: Topology = {
  exchanges: [{ name: EVENTS_EXCHANGE, type: 'topic', durable: true }],
  queues: [
    {
      name: DELIVERY_EVENTS_QUEUE,
      durable: true,
      arguments: {
        'x-queue-type': 'quorum',
        'x-single-active-consumer': true,
        'x-delivery-limit': DELIVERY_QUEUES_REDELIVERY_LIMIT,
        'x-overflow': 'reject-publish',
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': DELIVERY_PARKED_QUEUE,
        'x-dead-letter-strategy': 'at-least-once',
      },
    },
    {
      name: DELIVERY_QUEUE,
      durable: true,
      arguments: {
        'x-queue-type': 'quorum',
        'x-delivery-limit': DELIVERY_QUEUES_REDELIVERY_LIMIT,
        'x-overflow': 'reject-publish',
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': DELIVERY_PARKED_QUEUE,
        'x-dead-letter-strategy': 'at-least-once',
      },
    },
    {
      name: DELIVERY_PARKED_QUEUE,
      durable: true,
      arguments: { 'x-queue-type': 'quorum', 'x-delivery-limit': DELIVERY_QUEUES_REDELIVERY_LIMIT },
    },
    ...DELIVERY_RETRY_TIERS_MS.map((ttl) => ({
      name: deliveryRetryQueueName(ttl),
      durable: true,
      arguments: {
        'x-queue-type': 'quorum',
        'x-message-ttl': ttl,
        'x-delivery-limit': DELIVERY_QUEUES_REDELIVERY_LIMIT,
        'x-overflow': 'reject-publish',
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': DELIVERY_QUEUE,
        'x-dead-letter-strategy': 'at-least-once',
      },
    })),
  ],
  bindings: [{ exchange: EVENTS_EXCHANGE, queue: DELIVERY_EVENTS_QUEUE, routingKey: '#' }],
  // after the new binding: an event published meanwhile reaches one queue or both, never none
  unbindings: [{ exchange: EVENTS_EXCHANGE, queue: DELIVERY_QUEUE, routingKey: '#' }],
};
