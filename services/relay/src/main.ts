import { runService } from '@reten/observability';
import { loadRelayConfig } from './config';
import { RelayService } from './relay-service';

/** Composition root: config → relay → signals. */
void runService({
  name: 'relay',
  loadConfig: () => loadRelayConfig(),
  create: (config, log) => new RelayService(config, log),
});
