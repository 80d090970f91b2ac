import type { Request } from 'express';
import { principalOf } from './access/authenticate';

/** The tenant of a request: the authenticated principal's (401 when there is none: fail closed). */
export function tenantOf(req: Request): string {
  return principalOf(req).tenantId;
}
