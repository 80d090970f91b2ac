// The webhook tables and their row shapes are owned by @reten/store; the delivery service
// calls an endpoint with its secrets `Endpoint`.
export { INITIAL_TOKEN } from '@reten/store';
export type { DeliveryRow, EndpointForDelivery as Endpoint } from '@reten/store';
