import type { Request } from 'express';

/** The tenant every request belongs to until authentication (issue 6) assigns one. */
export const DEFAULT_TENANT = 'dev';

/** The tenant of a request. */
export function tenantOf(req: Request): string {
  const fromAuth = (req as Request & { tenantId?: string }).tenantId;
  return fromAuth ?? DEFAULT_TENANT;
}
