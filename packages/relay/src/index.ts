export { buildOutboxRelay } from './build-relay';
export { brokerReadinessConfig, relayConfig } from './config';
export type { RelaySettings } from './config';
export { createRelayMetrics, registerOutboxGauges } from './metrics';
export type { OutboxLag, RelayMetrics } from './metrics';
export { OutboxRelay } from './outbox-relay';
export type { RelayOptions } from './outbox-relay';
