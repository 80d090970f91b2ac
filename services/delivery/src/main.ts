import { runService } from '@reten/observability';
import { loadDeliveryConfig } from './config';
import { DeliveryService } from './delivery-service';

/** Composition root: config → delivery service → signals. */
void runService({
  name: 'delivery',
  loadConfig: () => loadDeliveryConfig(),
  onConfig: (config, log) => {
    if (config.WEBHOOK_ALLOW_PRIVATE) {
      log.warn('WEBHOOK_ALLOW_PRIVATE=true: webhooks may target private and loopback addresses');
    }
  },
  create: (config, log) => new DeliveryService(config, log),
});
