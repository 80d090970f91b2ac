import { Counter } from '@reten/observability';
import type { Registry } from '@reten/observability';
import type { AuthFailureReason } from './auth-failure';

/** `reten_auth_failures_total{reason}`: refused credentials, by why. */
export function authFailureCounter(
  registry: Registry | undefined,
): (reason: AuthFailureReason) => void {
  if (!registry) return () => undefined;
  const counter = new Counter({
    name: 'reten_auth_failures_total',
    help: 'Refused credentials, by reason (missing, malformed, unknown_key, revoked_key, …)',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  return (reason) => counter.inc({ reason });
}
