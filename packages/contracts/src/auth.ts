import { z } from 'zod';

/** Every scope a key or token can carry; `admin` implies all the others. */
export const SCOPES = [
  'events:write',
  'events:read',
  'webhooks:manage',
  'stream:read',
  'admin',
] as const;

export const ScopeSchema = z.enum(SCOPES).meta({ id: 'Scope' });
export type Scope = z.infer<typeof ScopeSchema>;

/** Key ids are public (they appear in the key itself and in listings); secrets never are. */
export const ApiKeyIdSchema = z.string().regex(/^ak_[0-9a-f]{16}$/, 'must be an API key id');

export const CreateApiKeyRequestSchema = z
  .object({
    name: z.string().min(1).max(200).describe('What the key is for'),
    scopes: z.array(ScopeSchema).min(1).describe('What the key may do'),
  })
  .strict()
  .meta({ id: 'CreateApiKeyRequest' });
export type CreateApiKeyRequest = z.infer<typeof CreateApiKeyRequestSchema>;

export const ApiKeySchema = z
  .object({
    id: ApiKeyIdSchema,
    name: z.string(),
    scopes: z.array(ScopeSchema),
    created_at: z.string(),
    last_used_at: z.string().nullable(),
  })
  .meta({ id: 'ApiKey' });
export type ApiKey = z.infer<typeof ApiKeySchema>;

export const CreatedApiKeySchema = ApiKeySchema.extend({
  key: z.string().describe('The secret key, `rtn_…`: shown this once, stored only as a hash'),
}).meta({ id: 'CreatedApiKey' });
export type CreatedApiKey = z.infer<typeof CreatedApiKeySchema>;

export const ApiKeyListSchema = z
  .object({ data: z.array(ApiKeySchema) })
  .meta({ id: 'ApiKeyList' });
export type ApiKeyList = z.infer<typeof ApiKeyListSchema>;

export const TokenRequestSchema = z
  .object({
    scopes: z
      .array(ScopeSchema)
      .min(1)
      .optional()
      .describe("Narrower scopes for the token; default: all of the key's scopes"),
  })
  .strict()
  .meta({ id: 'TokenRequest' });
export type TokenRequest = z.infer<typeof TokenRequestSchema>;

export const TokenResponseSchema = z
  .object({
    access_token: z.string(),
    token_type: z.literal('Bearer'),
    expires_in: z.number().int().describe('Seconds until the token expires'),
    scopes: z.array(ScopeSchema),
  })
  .meta({ id: 'TokenResponse' });
export type TokenResponse = z.infer<typeof TokenResponseSchema>;

/** Per-tenant rate limits and events retention; `null` means the deployment's default. */
export const TenantLimitsSchema = z
  .object({
    rest_requests_per_minute: z.number().int().min(1).max(10_000_000).nullable(),
    ingest_events_per_second: z.number().int().min(1).max(10_000_000).nullable(),
    events_retention_seconds: z
      .number()
      .int()
      .min(1)
      .max(315_360_000)
      .nullable()
      .describe(
        "How long the tenant's events are kept, in seconds (null: the deployment's RETENTION_EVENTS_DEFAULT_SECONDS); a change must lie within RETENTION_EVENTS_MIN_SECONDS and RETENTION_EVENTS_MAX_SECONDS",
      ),
  })
  .meta({ id: 'TenantLimits' });
export type TenantLimits = z.infer<typeof TenantLimitsSchema>;

export const UpdateTenantLimitsRequestSchema = TenantLimitsSchema.partial()
  .strict()
  .meta({ id: 'UpdateTenantLimitsRequest' });
export type UpdateTenantLimitsRequest = z.infer<typeof UpdateTenantLimitsRequestSchema>;
