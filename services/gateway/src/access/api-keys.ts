import { z } from 'zod';
import { ApiKeyIdSchema, CreateApiKeyRequestSchema, RetenError } from '@reten/contracts';
import type { ApiKey, ApiKeyList, CreatedApiKey } from '@reten/contracts';
import type { ApiKeyRecord, Authenticator } from '@reten/auth';
import { parseOrThrow, requireJsonBody } from '@reten/http';
import { tenantOf } from '../tenant';
import type { RouteHandlers } from '../api-route';

export const ApiKeyIdParamsSchema = z.object({ id: ApiKeyIdSchema });

function toApiKey(r: ApiKeyRecord): ApiKey {
  return {
    id: r.id,
    name: r.name,
    scopes: r.scopes,
    created_at: r.createdAt.toISOString(),
    last_used_at: r.lastUsedAt ? r.lastUsedAt.toISOString() : null,
  };
}

/** `/api/v1/api-keys`: create (the secret is shown once), list (without secrets), revoke. */
export function apiKeysHandlers(authenticator: Authenticator): RouteHandlers {
  const routes: RouteHandlers = {};

  routes.createApiKey = [
    requireJsonBody,
    async (req, res) => {
      const body = parseOrThrow(CreateApiKeyRequestSchema, req.body, 'body');
      const { record, key } = await authenticator.keys.create(
        tenantOf(req),
        body.name,
        body.scopes,
      );
      const created: CreatedApiKey = { ...toApiKey(record), key };
      res.setHeader('Cache-Control', 'no-store');
      res.status(201).json(created);
    },
  ];

  routes.listApiKeys = [
    async (req, res) => {
      const list: ApiKeyList = {
        data: (await authenticator.keys.list(tenantOf(req))).map(toApiKey),
      };
      res.json(list);
    },
  ];

  routes.revokeApiKey = [
    async (req, res) => {
      const parsed = ApiKeyIdParamsSchema.safeParse(req.params);
      // another tenant's key is as unknown as a key that never existed
      if (!parsed.success || !(await authenticator.revoke(tenantOf(req), parsed.data.id))) {
        throw new RetenError('not_found', `No API key with id ${String(req.params.id)}`);
      }
      res.status(204).end();
    },
  ];

  return routes;
}
