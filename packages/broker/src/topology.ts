import type { Channel, ConfirmChannel } from 'amqplib';
import type { Topology } from '@reten/contracts';

/** Declares exchanges, queues and bindings; idempotent, rerun after every reconnect. */
export async function declareTopology(
  channel: Channel | ConfirmChannel,
  topology: Topology,
): Promise<void> {
  for (const exchange of topology.exchanges) {
    await channel.assertExchange(exchange.name, exchange.type, { durable: exchange.durable });
  }
  for (const queue of topology.queues) {
    await channel.assertQueue(queue.name, { durable: queue.durable, arguments: queue.arguments });
  }
  for (const binding of topology.bindings) {
    await channel.bindQueue(binding.queue, binding.exchange, binding.routingKey);
  }
  // unbinding what is not bound is a no-op for RabbitMQ, so this stays idempotent
  for (const binding of topology.unbindings ?? []) {
    await channel.unbindQueue(binding.queue, binding.exchange, binding.routingKey);
  }
}
