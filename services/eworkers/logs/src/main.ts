import { runEworker } from '@reten/eworker';
import { clientLogEworker } from './client-log-eworker';
import { eworkerLogsConfigShape } from './config';

/** Composition root: the client-log eworker as a process (config from the environment). */
void runEworker(clientLogEworker, { configShape: eworkerLogsConfigShape });
