// The webhook tables are owned by @reten/store (the delivery service uses the same
// repositories); the gateway's routes take them under these names.
export { WebhookEndpointRepo as EndpointRepo } from '@reten/store';
export type { EndpointChange, NewEndpoint } from '@reten/store';
