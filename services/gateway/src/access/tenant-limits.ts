import { RetenError, UpdateTenantLimitsRequestSchema } from '@reten/contracts';
import type { TenantLimits } from '@reten/contracts';
import type { TenantLimitsRecord, TenantStore } from '@reten/auth';
import { parseOrThrow, requireJsonBody } from '@reten/http';
import { tenantOf } from '../tenant';
import type { RouteHandlers } from '../api-route';

function toLimits(r: TenantLimitsRecord): TenantLimits {
  return {
    rest_requests_per_minute: r.restRequestsPerMinute,
    ingest_events_per_second: r.ingestEventsPerSecond,
  };
}

function noTenant(id: string): RetenError {
  return new RetenError('not_found', `No tenant ${id}`);
}

/** `/api/v1/tenant/limits`: the caller's tenant's own rate limits (null = the default). */
export function tenantLimitsHandlers(
  tenants: TenantStore,
  onChange: (id: string) => void,
): RouteHandlers {
  const routes: RouteHandlers = {};

  routes.getTenantLimits = [
    async (req, res) => {
      const id = tenantOf(req);
      const limits = await tenants.limits(id);
      if (!limits) throw noTenant(id);
      res.json(toLimits(limits));
    },
  ];

  routes.updateTenantLimits = [
    requireJsonBody,
    async (req, res) => {
      const id = tenantOf(req);
      const body = parseOrThrow(UpdateTenantLimitsRequestSchema, req.body, 'body');
      const limits = await tenants.setLimits(id, {
        ...(body.rest_requests_per_minute === undefined
          ? {}
          : { restRequestsPerMinute: body.rest_requests_per_minute }),
        ...(body.ingest_events_per_second === undefined
          ? {}
          : { ingestEventsPerSecond: body.ingest_events_per_second }),
      });
      if (!limits) throw noTenant(id);
      onChange(id);
      res.json(toLimits(limits));
    },
  ];

  return routes;
}
