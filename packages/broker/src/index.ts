export { BrokerConnection } from './connection';
export type { BrokerOptions } from './connection';
export { declareTopology } from './topology';
export { ConfirmPublisher, PublishError } from './confirm-publisher';
export type { OutgoingMessage } from './confirm-publisher';
export {
  decodeEventMessage,
  decodeTargetedMessage,
  encodeEventMessage,
  encodeEventReplay,
  encodeTargetedMessage,
  messageIdentity,
  readEventHeaders,
  receivedAtMs,
} from './event-message';
export type {
  DecodedEventMessage,
  DecodedTargetedMessage,
  EventMessage,
  EventMessageHeaders,
  MessageIdentity,
  TargetedMessage,
} from './event-message';
export { QueueConsumer } from './queue-consumer';
export type { QueueConsumerOptions } from './queue-consumer';
