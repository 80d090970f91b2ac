import type { Request, RequestHandler, Response } from 'express';
import { RetenError, isRetenError } from '@reten/contracts';
import type { Scope } from '@reten/contracts';
import { authFailureReason, bearerSchemeError, hasScope } from '@reten/auth';
import type { Authenticator, Principal } from '@reten/auth';

const principals = new WeakMap<Request, Principal>();

/** The realm of every `WWW-Authenticate` challenge. */
export const AUTH_REALM = 'reten';

function quoted(value: string): string {
  return `"${value.replace(/["\\]/g, '')}"`;
}

/** Sets the RFC 6750 challenge for a 401 (no `error` when no credentials were sent). */
function challenge(res: Response, err: RetenError): void {
  const reason = authFailureReason(err);
  const parts = [`Bearer realm=${quoted(AUTH_REALM)}`];
  if (reason && reason !== 'missing') {
    parts.push(
      `error=${quoted(reason === 'malformed' ? 'invalid_request' : 'invalid_token')}`,
      `error_description=${quoted(err.message)}`,
    );
  }
  res.setHeader('WWW-Authenticate', parts.join(', '));
}

/** Express middleware: authenticates `Authorization: Bearer …` and records the principal. */
export function authenticate(authenticator: Authenticator): RequestHandler {
  return (req, res, next) => {
    // over HTTP a header must name the Bearer scheme (RFC 6750): the authenticator alone would
    // also take a bare credential, as WebSocket `?token=` values are
    const badScheme = bearerSchemeError(req.headers.authorization);
    if (badScheme) {
      challenge(res, badScheme);
      next(badScheme);
      return;
    }
    authenticator.authenticate(req.headers.authorization).then(
      (principal) => {
        principals.set(req, principal);
        next();
      },
      (err: unknown) => {
        if (isRetenError(err) && err.code === 'unauthorized') challenge(res, err);
        next(err);
      },
    );
  };
}

/** The authenticated caller; throws 401 when the request passed no `authenticate` (fail closed). */
export function principalOf(req: Request): Principal {
  const principal = principals.get(req);
  if (!principal) throw new RetenError('unauthorized', 'Missing credentials');
  return principal;
}

/** The authenticated caller, or undefined before/without `authenticate`. */
export function maybePrincipalOf(req: Request): Principal | undefined {
  return principals.get(req);
}

/** Throws 403 `forbidden` (naming the scope) unless the principal holds `scope`. */
export function assertScope(principal: Principal, scope: Scope): void {
  if (!hasScope(principal, scope)) {
    throw new RetenError('forbidden', `This operation needs the ${scope} scope`);
  }
}

/** Express middleware: 403 `forbidden` unless the authenticated caller holds `scope`. */
export function requireScope(scope: Scope): RequestHandler {
  return (req, res, next) => {
    try {
      assertScope(principalOf(req), scope);
      next();
    } catch (err) {
      if (isRetenError(err) && err.code === 'forbidden') {
        res.setHeader(
          'WWW-Authenticate',
          `Bearer realm=${quoted(AUTH_REALM)}, error="insufficient_scope", scope=${quoted(scope)}`,
        );
      } else if (isRetenError(err)) {
        challenge(res, err);
      }
      next(err);
    }
  };
}

/** One rule of a route → scope policy: the first rule whose method and path match wins. */
export interface ScopeRule {
  /** Upper-case methods; omitted = any method. */
  methods?: readonly string[];
  /** Matches the request path (e.g. `/^\/api\/v1\/events(\/|$)/`). */
  path: RegExp;
  /** null: any authenticated caller. */
  scope: Scope | null;
}

/**
 * The scope a request needs under the policy: `fallback` when no rule matches (fail closed),
 * null when any authenticated caller may proceed.
 */
export function scopeFor(
  rules: readonly ScopeRule[],
  fallback: Scope,
  method: string,
  path: string,
): Scope | null {
  const m = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
  const rule = rules.find((r) => (!r.methods || r.methods.includes(m)) && r.path.test(path));
  return rule ? rule.scope : fallback;
}

/** Express middleware enforcing a central route → scope policy (after `authenticate`). */
export function scopePolicy(rules: readonly ScopeRule[], fallback: Scope): RequestHandler {
  return (req, res, next) => {
    const scope = scopeFor(rules, fallback, req.method, req.path);
    if (scope) {
      requireScope(scope)(req, res, next);
      return;
    }
    try {
      principalOf(req);
      next();
    } catch (err) {
      next(err);
    }
  };
}
