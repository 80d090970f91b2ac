import { ConfigError } from '@reten/config';
import { createLogger } from '@reten/observability';
import { loadStreamConfig } from './config';
import { StreamService } from './stream-service';

/** Composition root: config → stream service → signals. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadStreamConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`stream: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger({ service: 'stream', level: config.LOG_LEVEL });
  const service = new StreamService(config, log);
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
    log.fatal({ err }, 'stream failed to start');
    log.flush();
    process.exit(1);
  }
}

void main();
