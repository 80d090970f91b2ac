import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RetenError, SCOPES } from '@reten/contracts';
import { ApiKeyStore, TenantStore, apiKeyIdOf, hashApiKey } from '@reten/auth';
import type { TenantLimitsRecord } from '@reten/auth';
import type { Pool } from '@reten/store';

export interface BootstrapOptions {
  pool: Pool;
  schema: string;
  tenantId: string;
  /** RETEN_BOOTSTRAP_API_KEY: use this key (it must have the `rtn_` format). */
  presetKey: string | undefined;
  /** Where the key is written (and read back on the next run). */
  keyFile: string;
  limits: Partial<TenantLimitsRecord>;
}

export interface BootstrapResult {
  key: string;
  keyId: string;
  created: boolean;
}

async function readKeyFile(file: string): Promise<string | undefined> {
  try {
    return (await readFile(file, 'utf8')).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Ensures the tenant and a development key with every scope, writes the key to `keyFile`.
 * Idempotent: a key that is still live (the preset one, or the one in `keyFile`) is kept.
 */
export async function bootstrapDevKey(options: BootstrapOptions): Promise<BootstrapResult> {
  const tenants = new TenantStore(options.pool, options.schema);
  const keys = new ApiKeyStore(options.pool, options.schema);
  await tenants.ensure(options.tenantId, options.tenantId);
  if (
    options.limits.restRequestsPerMinute !== undefined ||
    options.limits.ingestEventsPerSecond !== undefined
  ) {
    await tenants.setLimits(options.tenantId, options.limits);
  }
  const candidate = options.presetKey ?? (await readKeyFile(options.keyFile));
  let result: BootstrapResult | undefined;
  if (candidate) {
    const keyId = apiKeyIdOf(candidate);
    if (!keyId) {
      if (options.presetKey) {
        throw new RetenError(
          'bad_request',
          'RETEN_BOOTSTRAP_API_KEY must look like rtn_<16 hex digits>_<24+ letters, digits, - or _>',
        );
      }
    } else {
      const existing = await keys.find(keyId);
      if (
        existing &&
        existing.tenantId === options.tenantId &&
        !existing.revokedAt &&
        existing.keyHash.equals(hashApiKey(candidate))
      ) {
        result = { key: candidate, keyId, created: false };
      } else if (!existing && options.presetKey) {
        await keys.create(options.tenantId, 'development key', [...SCOPES], {
          id: keyId,
          key: candidate,
        });
        result = { key: candidate, keyId, created: true };
      } else if (options.presetKey) {
        throw new RetenError(
          'conflict',
          'RETEN_BOOTSTRAP_API_KEY names a key that is revoked or belongs to another key or tenant',
        );
      }
    }
  }
  if (!result) {
    const { record, key } = await keys.create(options.tenantId, 'development key', [...SCOPES]);
    result = { key, keyId: record.id, created: true };
  }
  await mkdir(path.dirname(options.keyFile), { recursive: true, mode: 0o700 });
  await writeFile(options.keyFile, `${result.key}\n`, { mode: 0o600 });
  return result;
}
