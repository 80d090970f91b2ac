import { runService } from '@reten/observability';
import { loadGatewayConfig } from './config';
import { Gateway } from './gateway';

/** Composition root: config → gateway → signals. */
void runService({
  name: 'gateway',
  loadConfig: () => loadGatewayConfig(),
  create: (config, log) => new Gateway(config, log),
});
