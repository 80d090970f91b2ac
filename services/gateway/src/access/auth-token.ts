import { RetenError, TokenRequestSchema } from '@reten/contracts';
import type { TokenResponse } from '@reten/contracts';
import { narrowScopes } from '@reten/auth';
import type { Authenticator } from '@reten/auth';
import { optionalBodyOf, optionalJsonBody, parseOrThrow } from '@reten/http';
import { principalOf } from './authenticate';
import type { RouteHandlers } from '../api-route';

/** `POST /api/v1/auth/token`: an API key → a short-lived JWT, optionally with narrower scopes. */
export function authTokenHandlers(authenticator: Authenticator): RouteHandlers {
  const routes: RouteHandlers = {};
  routes.issueToken = [
    optionalJsonBody,
    (req, res) => {
      const principal = principalOf(req);
      if (principal.via !== 'api_key') {
        throw new RetenError('forbidden', 'Tokens are issued in exchange for an API key only');
      }
      const body = parseOrThrow(TokenRequestSchema, optionalBodyOf(req), 'body');
      const requested = body.scopes;
      if (requested) {
        const granted = narrowScopes(principal.scopes, requested);
        const missing = requested.filter((s) => !granted.includes(s));
        if (missing.length > 0) {
          throw new RetenError('forbidden', `The API key does not hold ${missing.join(', ')}`);
        }
      }
      const issued = authenticator.issueToken(principal, requested);
      const answer: TokenResponse = {
        access_token: issued.token,
        token_type: 'Bearer',
        expires_in: issued.expiresIn,
        scopes: issued.scopes,
      };
      res.setHeader('Cache-Control', 'no-store');
      res.json(answer);
    },
  ];
  return routes;
}
