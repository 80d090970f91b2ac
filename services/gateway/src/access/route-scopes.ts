import type { Scope } from '@reten/contracts';
import type { ScopeRule } from './authenticate';

/** Paths served without credentials (ops and the API description); everything else needs them. */
export const PUBLIC_PATHS = ['/healthz', '/readyz', '/metrics', '/openapi.json'] as const;

const under = (prefix: string) => new RegExp(`^${prefix.replace(/[/.]/g, '\\$&')}(?:/|$)`);

/**
 * THE route → scope policy of the gateway, applied in one place before every router. The
 * first matching rule wins; a route no rule names needs `admin` (fail closed).
 */
export const ROUTE_SCOPES: readonly ScopeRule[] = [
  { methods: ['POST'], path: under('/v1.0/event'), scope: 'events:write' },
  { methods: ['POST', 'PUT'], path: under('/api/v1/events'), scope: 'events:write' },
  { methods: ['GET'], path: under('/api/v1/events'), scope: 'events:read' },
  { methods: ['GET'], path: under('/api/v1/event-types'), scope: 'events:read' },
  { path: under('/api/v1/webhooks'), scope: 'webhooks:manage' },
  { path: under('/api/v1/deliveries'), scope: 'webhooks:manage' },
  { path: under('/api/v1/eworkers'), scope: 'admin' },
  { path: under('/api/v1/api-keys'), scope: 'admin' },
  { path: under('/api/v1/tenant'), scope: 'admin' },
  // any valid key may exchange itself for a token (scopes can only narrow)
  { methods: ['POST'], path: /^\/api\/v1\/auth\/token\/?$/, scope: null },
];

/** What a route needs when no rule names it. */
export const DEFAULT_ROUTE_SCOPE: Scope = 'admin';
