export { errorHandler, notFoundHandler, sendError } from './errors';
export { jsonBody, optionalBodyOf, optionalJsonBody, requireJsonBody } from './body';
export { MAX_JSON_DEPTH, inspectJson } from './json-inspect';
export { issuesToDetails, parseOrThrow } from './validate';
export { requestMetrics } from './request-metrics';
export { opsRouter } from './ops-routes';
export { opsApp } from './ops-app';
export type { OpsOptions } from './ops-routes';
export { DEFAULT_HEADERS_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS, listen } from './server';
export type { ListenOptions, RunningServer } from './server';
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
