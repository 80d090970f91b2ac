export { BrokerConnection } from './connection';
export type { BrokerOptions } from './connection';
export { declareTopology } from './topology';
export { ConfirmPublisher, PublishError } from './confirm-publisher';
export type { OutgoingMessage } from './confirm-publisher';
