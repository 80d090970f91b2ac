export { errorHandler, notFoundHandler, sendError } from './errors';
export { jsonBody, requireJsonBody } from './body';
export { issuesToDetails, parseOrThrow } from './validate';
export { requestMetrics } from './request-metrics';
export { opsRouter } from './ops-routes';
export { opsApp } from './ops-app';
export type { OpsOptions } from './ops-routes';
export { listen } from './server';
export type { RunningServer } from './server';
export {
  AUTH_REALM,
  assertScope,
  authenticate,
  maybePrincipalOf,
  principalOf,
  requireScope,
  scopeFor,
  scopePolicy,
} from './authenticate';
export type { ScopeRule } from './authenticate';
export { rateLimit } from './rate-limit';
export type { RateCharge, RateLimitOptions } from './rate-limit';
