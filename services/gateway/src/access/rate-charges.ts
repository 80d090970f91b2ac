import type { Request } from 'express';
import { maybePrincipalOf } from './authenticate';
import type { RateCharge } from './rate-limit';
import type { ApiRoute } from '../api-route';
import { pathPattern } from '../api-route';
import type { TenantLimitsCache } from './tenant-limits-cache';

export interface RateLimitSettings {
  restRequests: number;
  restWindowSeconds: number;
  ingestRequests: number;
  ingestWindowSeconds: number;
}

/** Whether a request is charged to the ingest bucket (per tenant): the route table says so. */
export function ingestMatcher(routes: readonly ApiRoute[]): (req: Request) => boolean {
  const ingest = routes
    .filter((r) => r.rateBucket === 'ingest')
    .map((r) => ({ method: r.method.toUpperCase(), path: pathPattern(r.path) }));
  return (req) => ingest.some((r) => r.method === req.method && r.path.test(req.path));
}

/** A per-minute / per-second tenant setting as points of a window of this length. */
function scaled(perUnit: number, unitSeconds: number, windowSeconds: number): number {
  return Math.max(1, Math.round((perUnit * windowSeconds) / unitSeconds));
}

/**
 * What a request is charged: an ingest route → the tenant's ingest counter; every other call →
 * its key's REST counter. Tenant settings override the configured defaults.
 */
export function rateChargeOf(
  settings: RateLimitSettings,
  limits: TenantLimitsCache,
  routes: readonly ApiRoute[],
) {
  const isIngest = ingestMatcher(routes);
  return async (req: Request): Promise<RateCharge | undefined> => {
    const principal = maybePrincipalOf(req);
    if (!principal) return undefined;
    const tenant = await limits.get(principal.tenantId);
    if (isIngest(req)) {
      const w = settings.ingestWindowSeconds;
      return {
        bucket: 'ingest',
        key: principal.tenantId,
        points:
          tenant.ingestEventsPerSecond === null
            ? settings.ingestRequests
            : scaled(tenant.ingestEventsPerSecond, 1, w),
        windowSeconds: w,
      };
    }
    const w = settings.restWindowSeconds;
    return {
      bucket: 'rest',
      key: principal.keyId,
      points:
        tenant.restRequestsPerMinute === null
          ? settings.restRequests
          : scaled(tenant.restRequestsPerMinute, 60, w),
      windowSeconds: w,
    };
  };
}
