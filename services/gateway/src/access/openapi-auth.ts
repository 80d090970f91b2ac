import type { ZodOpenApiPathsObject, oas31 } from 'zod-openapi';
import {
  ApiKeyListSchema,
  CreateApiKeyRequestSchema,
  CreatedApiKeySchema,
  TenantLimitsSchema,
  TokenRequestSchema,
  TokenResponseSchema,
  UpdateTenantLimitsRequestSchema,
} from '@reten/contracts';
import { scopeFor } from './authenticate';
import { ApiKeyIdParamsSchema } from './api-keys';
import type { ScopeRule } from './authenticate';
import { DEFAULT_ROUTE_SCOPE, PUBLIC_PATHS } from './route-scopes';
import { errorResponse as error, jsonResponse as json } from '../openapi-responses';

/** The name of the bearer security scheme in the document. */
export const BEARER_SCHEME = 'bearerAuth';

/** The paths of API keys, tokens and tenant limits. */
export const authPaths: ZodOpenApiPathsObject = {
  '/api/v1/api-keys': {
    post: {
      operationId: 'createApiKey',
      summary: 'Creates an API key of the caller’s tenant; the key is shown in this answer only',
      requestBody: {
        required: true,
        content: { 'application/json': { schema: CreateApiKeyRequestSchema } },
      },
      responses: {
        '201': json('The key, with its secret (store it now)', CreatedApiKeySchema),
        '422': error('`validation_failed`'),
      },
    },
    get: {
      operationId: 'listApiKeys',
      summary: 'The tenant’s live keys, without secrets',
      responses: { '200': json('Live keys, newest first', ApiKeyListSchema) },
    },
  },
  '/api/v1/api-keys/{id}': {
    delete: {
      operationId: 'revokeApiKey',
      summary: 'Revokes the key at once on every replica (its tokens stop working too)',
      requestParams: { path: ApiKeyIdParamsSchema },
      responses: {
        '204': { description: 'Revoked' },
        '404': error('`not_found`: no such live key in this tenant'),
      },
    },
  },
  '/api/v1/auth/token': {
    post: {
      operationId: 'issueToken',
      summary: 'Exchanges the API key in Authorization for a short-lived JWT',
      requestBody: {
        required: false,
        content: { 'application/json': { schema: TokenRequestSchema } },
      },
      responses: {
        '200': json('A bearer token', TokenResponseSchema),
        '422': error('`validation_failed`'),
      },
    },
  },
  '/api/v1/tenant/limits': {
    get: {
      operationId: 'getTenantLimits',
      summary: 'The tenant’s own rate limits (null: the deployment default)',
      responses: { '200': json('Limits', TenantLimitsSchema), '404': error('`not_found`') },
    },
    patch: {
      operationId: 'updateTenantLimits',
      summary: 'Sets the tenant’s rate limits (null: back to the default)',
      requestBody: {
        required: true,
        content: { 'application/json': { schema: UpdateTenantLimitsRequestSchema } },
      },
      responses: {
        '200': json('Limits', TenantLimitsSchema),
        '404': error('`not_found`'),
        '422': error('`validation_failed`'),
      },
    },
  },
};

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;
const ERROR_REF = { $ref: '#/components/schemas/Error' };
const errorRef = (description: string): oas31.ResponseObject => ({
  description,
  content: { 'application/json': { schema: ERROR_REF } },
});
const RATE_HEADERS: Record<string, oas31.HeaderObject> = {
  'X-RateLimit-Limit': {
    description: 'Requests allowed in the window',
    schema: { type: 'integer' },
  },
  'X-RateLimit-Remaining': {
    description: 'Requests left in the window',
    schema: { type: 'integer' },
  },
  'X-RateLimit-Reset': {
    description: 'Seconds until the window resets',
    schema: { type: 'integer' },
  },
};

/**
 * Declares the bearer scheme and, on every operation but the public ones, the scope the
 * central policy requires (from the same rules the middleware enforces) and the
 * 401 / 403 / 429 answers.
 */
export function withSecurity(
  doc: oas31.OpenAPIObject,
  rules: readonly ScopeRule[],
): oas31.OpenAPIObject {
  doc.components ??= {};
  doc.components.securitySchemes = {
    ...doc.components.securitySchemes,
    [BEARER_SCHEME]: {
      type: 'http',
      scheme: 'bearer',
      description:
        'An API key (`rtn_…`) or a JWT from `POST /api/v1/auth/token`. Scopes: events:write, events:read, webhooks:manage, stream:read, admin (admin implies all).',
    },
  };
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    if ((PUBLIC_PATHS as readonly string[]).includes(path)) continue;
    for (const method of METHODS) {
      const op = (item as Record<string, oas31.OperationObject | undefined>)[method];
      if (!op) continue;
      const sample = path.replace(/\{[^}]+\}/g, 'x');
      const scope = scopeFor(rules, DEFAULT_ROUTE_SCOPE, method, sample);
      op.security = [{ [BEARER_SCHEME]: scope ? [scope] : [] }];
      const responses = op.responses as Record<string, oas31.ResponseObject>;
      responses['401'] ??= errorRef(
        '`unauthorized`: missing, malformed, unknown, revoked or expired credentials',
      );
      if (scope)
        responses['403'] ??= errorRef(`\`forbidden\`: the credentials lack the ${scope} scope`);
      responses['429'] ??= {
        ...errorRef('`rate_limit_exceeded` (with `Retry-After`)'),
        headers: { 'Retry-After': { schema: { type: 'integer' } }, ...RATE_HEADERS },
      };
    }
  }
  return doc;
}
