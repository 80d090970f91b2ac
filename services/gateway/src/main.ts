import { ConfigError } from '@reten/config';
import { createLogger } from '@reten/observability';
import { loadGatewayConfig } from './config';
import { Gateway } from './gateway';

/** Composition root: config → gateway → signals. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadGatewayConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`gateway: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger({ service: 'gateway', level: config.LOG_LEVEL });
  const gateway = new Gateway(config, log);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    gateway
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
    await gateway.start();
  } catch (err) {
    gateway.lifecycle.transition('failed');
    log.fatal({ err }, 'gateway failed to start');
    log.flush();
    process.exit(1);
  }
}

void main();
