import type { Scope } from '@reten/auth';
import { api } from './test-api';
import type { ApiOptions, ApiResponse } from './test-api';
import type { TestGateway } from './test-fixture';

/** A second tenant on the same gateway, with its own all-powerful key. */
export interface OtherTenant {
  tenantId: string;
  apiKey: string;
  /** `api()` as this tenant. */
  call(method: string, path: string, body?: unknown, options?: ApiOptions): Promise<ApiResponse>;
}

/** Creates another tenant (default every scope) to check isolation against `gw`'s tenant. */
export async function otherTenant(
  gw: TestGateway,
  tenantId = 'other-tenant',
  scopes: Scope[] = ['events:write', 'events:read', 'webhooks:manage', 'stream:read', 'admin'],
): Promise<OtherTenant> {
  const apiKey = await gw.createKey(tenantId, scopes, 'other tenant key');
  return {
    tenantId,
    apiKey,
    call: (method, path, body, options = {}) =>
      api(gw, method, path, body, { auth: apiKey, ...options }),
  };
}

/**
 * Asserts the other tenant gets 404 `not_found` (never 403, never the data) for a resource
 * of `gw`'s tenant — the isolation check every resource kind reuses.
 */
export async function expectHiddenFrom(
  other: OtherTenant,
  method: string,
  path: string,
  body?: unknown,
): Promise<void> {
  const res = await other.call(method, path, body);
  if (
    res.status !== 404 ||
    (res.body as { error?: { code?: string } }).error?.code !== 'not_found'
  ) {
    throw new Error(
      `${method} ${path} as tenant ${other.tenantId}: expected 404 not_found, got ${res.status} ${res.text}`,
    );
  }
}
