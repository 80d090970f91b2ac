import type { Scope } from '@reten/contracts';

/** Whether the scopes grant `scope`; `admin` implies every scope. */
export function scopesGrant(scopes: readonly Scope[], scope: Scope): boolean {
  return scopes.includes('admin') || scopes.includes(scope);
}

/** The requested scopes a holder of `held` may pass on (an admin holder may pass any). */
export function narrowScopes(held: readonly Scope[], requested: readonly Scope[]): Scope[] {
  return [...new Set(requested)].filter((s) => scopesGrant(held, s));
}
