import { ConfigError } from '@reten/config';
import { createLogger } from '@reten/observability';
import { loadDeliveryConfig } from './config';
import { DeliveryService } from './delivery-service';

/** Composition root: config → delivery service → signals. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadDeliveryConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`delivery: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger({ service: 'delivery', level: config.LOG_LEVEL });
  if (config.WEBHOOK_ALLOW_PRIVATE) {
    log.warn('WEBHOOK_ALLOW_PRIVATE=true: webhooks may target private and loopback addresses');
  }
  const service = new DeliveryService(config, log);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    service
      .stop()
      .then(() => {
        log.info('stopped');
        log.flush();
        process.exit(0);
      })
      .catch((err: unknown) => {
        log.error({ err }, 'shutdown failed');
        log.flush();
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  try {
    await service.start();
  } catch (err) {
    service.lifecycle.transition('failed');
    log.fatal({ err }, 'delivery service failed to start');
    log.flush();
    process.exit(1);
  }
}

void main();
