/** RabbitMQ names and arguments: declared by packages/broker and in infra/rabbitmq/definitions.json. */
export const EVENTS_EXCHANGE = 'reten.events';

/** Header names on every message published to `reten.events`. */
export const MESSAGE_HEADERS = {
  tenant: 'x-reten-tenant',
  revision: 'x-reten-revision',
  seq: 'x-reten-seq',
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
}

/** The topology every service declares on each (re)connect. Consumers add their own queues. */
export const CORE_TOPOLOGY: Topology = {
  exchanges: [{ name: EVENTS_EXCHANGE, type: 'topic', durable: true }],
  queues: [],
  bindings: [],
};
