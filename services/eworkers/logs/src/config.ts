import { intVar } from '@reten/config';
import { eworkerConfigShape } from '@reten/eworker';

/** Every variable the client-log eworker reads: the eworker SDK's, with its own port. */
export const eworkerLogsConfigShape = {
  ...eworkerConfigShape,
  PORT: intVar(8083, 0, 65535, 'HTTP port of /healthz, /readyz and /metrics'),
};
