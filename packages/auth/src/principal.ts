import type { Scope } from '@reten/contracts';
import { scopesGrant } from './scopes';

/** Who is calling: the tenant, the API key behind the credentials, what it may do. */
export interface Principal {
  tenantId: string;
  keyId: string;
  scopes: Scope[];
  via: 'api_key' | 'jwt';
}

/** Whether the principal holds `scope` (`admin` implies all). */
export function hasScope(principal: Principal, scope: Scope): boolean {
  return scopesGrant(principal.scopes, scope);
}
