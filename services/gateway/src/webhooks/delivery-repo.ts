// The webhook tables are owned by @reten/store (the delivery service uses the same
// repositories); the gateway's routes take them under these names.
export { WebhookDeliveryRepo as DeliveryRepo } from '@reten/store';
