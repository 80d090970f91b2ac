import { RetenError, UpdateTenantLimitsRequestSchema } from '@reten/contracts';
import type { TenantLimits } from '@reten/contracts';
import type { TenantLimitsRecord, TenantStore } from '@reten/auth';
import { parseOrThrow, requireJsonBody } from '@reten/http';
import type { TenantRetentionStore } from '@reten/store';
import { tenantOf } from '../tenant';
import type { RouteHandlers } from '../api-route';
import type { TenantLimitsCache } from './tenant-limits-cache';

/** Tenants' events retention and the bounds a tenant may choose its own period within. */
export interface TenantRetentionDeps {
  tenants: TenantRetentionStore;
  minSeconds: number;
  maxSeconds: number;
}

export interface TenantLimitsDeps {
  tenants: TenantStore;
  tenantLimits: TenantLimitsCache;
  retention: TenantRetentionDeps;
}

function toLimits(r: TenantLimitsRecord, eventsRetentionSeconds: number | null): TenantLimits {
  return {
    rest_requests_per_minute: r.restRequestsPerMinute,
    ingest_events_per_second: r.ingestEventsPerSecond,
    events_retention_seconds: eventsRetentionSeconds,
  };
}

function noTenant(id: string): RetenError {
  return new RetenError('not_found', `No tenant ${id}`);
}

/** 422 unless `seconds` lies within the deployment's bounds (null, the default, always does). */
function checkRetention(seconds: number | null, bounds: TenantRetentionDeps): void {
  if (seconds === null || (seconds >= bounds.minSeconds && seconds <= bounds.maxSeconds)) return;
  const message = `must be between ${bounds.minSeconds} and ${bounds.maxSeconds} seconds (RETENTION_EVENTS_MIN_SECONDS, RETENTION_EVENTS_MAX_SECONDS), or null for the default`;
  throw new RetenError('validation_failed', `Invalid body.events_retention_seconds: ${message}`, [
    { path: 'body.events_retention_seconds', message },
  ]);
}

/**
 * `/api/v1/tenant/limits`: the caller's tenant's own rate limits and events retention period
 * (null = the deployment's default).
 */
export function tenantLimitsHandlers(deps: TenantLimitsDeps): RouteHandlers {
  const { tenants, retention } = deps;
  const routes: RouteHandlers = {};

  routes.getTenantLimits = [
    async (req, res) => {
      const id = tenantOf(req);
      const [limits, kept] = await Promise.all([tenants.limits(id), retention.tenants.get(id)]);
      if (!limits || !kept) throw noTenant(id);
      res.json(toLimits(limits, kept.ownSeconds));
    },
  ];

  routes.updateTenantLimits = [
    requireJsonBody,
    async (req, res) => {
      const id = tenantOf(req);
      const body = parseOrThrow(UpdateTenantLimitsRequestSchema, req.body, 'body');
      if (body.events_retention_seconds !== undefined) {
        checkRetention(body.events_retention_seconds, retention);
      }
      const limits = await tenants.setLimits(id, {
        ...(body.rest_requests_per_minute === undefined
          ? {}
          : { restRequestsPerMinute: body.rest_requests_per_minute }),
        ...(body.ingest_events_per_second === undefined
          ? {}
          : { ingestEventsPerSecond: body.ingest_events_per_second }),
      });
      if (!limits) throw noTenant(id);
      if (body.events_retention_seconds !== undefined) {
        await retention.tenants.set(id, body.events_retention_seconds);
      }
      deps.tenantLimits.invalidate(id);
      const kept = await retention.tenants.get(id);
      res.json(toLimits(limits, kept?.ownSeconds ?? null));
    },
  ];

  return routes;
}
