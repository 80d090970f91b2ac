import { runService } from '@reten/observability';
import { loadStreamConfig } from './config';
import { StreamService } from './stream-service';

/** Composition root: config → stream service → signals. */
void runService({
  name: 'stream',
  loadConfig: () => loadStreamConfig(),
  create: (config, log) => new StreamService(config, log),
});
