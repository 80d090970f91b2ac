import type { Request } from 'express';
import { maybePrincipalOf } from './authenticate';
import type { RateCharge } from './rate-limit';
import type { TenantLimitsCache } from './tenant-limits-cache';

export interface RateLimitSettings {
  restRequests: number;
  restWindowSeconds: number;
  ingestRequests: number;
  ingestWindowSeconds: number;
}

/** EVCI and event creation: the ingest bucket, counted per tenant. */
export function isIngest(req: Request): boolean {
  if (req.method !== 'POST') return false;
  return /^\/v1\.0\/event\/[^/]+\/?$/.test(req.path) || /^\/api\/v1\/events\/?$/.test(req.path);
}

/** A per-minute / per-second tenant setting as points of a window of this length. */
function scaled(perUnit: number, unitSeconds: number, windowSeconds: number): number {
  return Math.max(1, Math.round((perUnit * windowSeconds) / unitSeconds));
}

/**
 * What a request is charged: ingest → the tenant's ingest counter; every other API call →
 * its key's REST counter. Tenant settings override the configured defaults.
 */
export function rateChargeOf(settings: RateLimitSettings, limits: TenantLimitsCache) {
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
