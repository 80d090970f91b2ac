import type { Request } from 'express';
import { maybePrincipalOf } from './authenticate';
import type { ChargeOf, RateCharge } from './rate-limit';
import type { TenantLimitsRecord } from '@reten/auth';
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

function ingestCharge(
  settings: RateLimitSettings,
  tenantId: string,
  tenant: TenantLimitsRecord,
): RateCharge {
  const w = settings.ingestWindowSeconds;
  return {
    bucket: 'ingest',
    key: tenantId,
    points:
      tenant.ingestEventsPerSecond === null
        ? settings.ingestRequests
        : scaled(tenant.ingestEventsPerSecond, 1, w),
    windowSeconds: w,
  };
}

function restCharge(
  settings: RateLimitSettings,
  keyId: string,
  tenant: TenantLimitsRecord,
): RateCharge {
  const w = settings.restWindowSeconds;
  return {
    bucket: 'rest',
    key: keyId,
    points:
      tenant.restRequestsPerMinute === null
        ? settings.restRequests
        : scaled(tenant.restRequestsPerMinute, 60, w),
    windowSeconds: w,
  };
}

/**
 * What a request is charged: an ingest route → the tenant's ingest counter; every other call →
 * its key's REST counter. Tenant settings override the configured defaults. Decided at once
 * when the tenant's limits are cached.
 */
export function rateChargeOf(
  settings: RateLimitSettings,
  limits: TenantLimitsCache,
  routes: readonly ApiRoute[],
): ChargeOf {
  const isIngest = ingestMatcher(routes);
  return (req) => {
    const principal = maybePrincipalOf(req);
    if (!principal) return undefined;
    const charge = (tenant: TenantLimitsRecord) =>
      isIngest(req)
        ? ingestCharge(settings, principal.tenantId, tenant)
        : restCharge(settings, principal.keyId, tenant);
    const tenant = limits.limitsOf(principal.tenantId);
    return tenant instanceof Promise ? tenant.then(charge) : charge(tenant);
  };
}

/** The charge of a request known to be an ingest route (the EVCI fast path). */
export function ingestChargeOf(settings: RateLimitSettings, limits: TenantLimitsCache): ChargeOf {
  return (req) => {
    const principal = maybePrincipalOf(req);
    if (!principal) return undefined;
    const tenantId = principal.tenantId;
    const tenant = limits.limitsOf(tenantId);
    return tenant instanceof Promise
      ? tenant.then((t) => ingestCharge(settings, tenantId, t))
      : ingestCharge(settings, tenantId, tenant);
  };
}
