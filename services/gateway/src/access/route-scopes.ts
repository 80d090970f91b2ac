import type { Scope } from '@reten/contracts';
import type { ApiRoute } from '../api-route';
import { pathPattern } from '../api-route';
import type { ScopeRule } from './authenticate';

/** Paths served without credentials (ops and the API description); everything else needs them. */
export const PUBLIC_PATHS = ['/healthz', '/readyz', '/metrics', '/openapi.json'] as const;

/**
 * The route → scope policy of the route table, applied in one place before every router. A
 * declared route needs its scope; another method on a declared path needs only credentials
 * (it is answered 405 with `Allow`, which the public document tells anyway); any other path
 * needs `admin` (fail closed).
 */
export function scopeRulesOf(routes: readonly ApiRoute[]): ScopeRule[] {
  const exact = routes.map((r) => ({
    methods: [r.method.toUpperCase()],
    path: pathPattern(r.path),
    scope: r.scope,
  }));
  const otherMethods = [...new Set(routes.map((r) => r.path))].map((path) => ({
    path: pathPattern(path),
    scope: null,
  }));
  return [...exact, ...otherMethods];
}

/** What a route needs when no rule names it. */
export const DEFAULT_ROUTE_SCOPE: Scope = 'admin';
