export { defineEworker } from './define-eworker';
export type { EworkerContext, EworkerDefinition, EworkerEvent } from './define-eworker';
// the type of `ctx.trace`, so a handler's package needs no other import to name it
export type { TraceInfo } from '@reten/observability';
export { runEworker } from './run-eworker';
export type { RunEworkerOptions } from './run-eworker';
export { EworkerService } from './eworker-service';
export { eworkerConfigShape, loadEworkerConfig } from './config';
export type { EworkerConfig } from './config';
export { jsonSchemaOf, registerEworker } from './registration';
export type { Registration } from './registration';
export { retryDelayMs } from './retry-backoff';
export { PARKED_HEADERS } from './parker';
