import type { Pool } from 'pg';
import type { Scope } from '@reten/contracts';
import { apiKeyChannel } from '@reten/store';
import { generateApiKey, hashApiKey } from './api-key-format';

/** The row behind an API key, as authentication needs it (the hash, never the key). */
export interface ApiKeyRecord {
  id: string;
  tenantId: string;
  name: string;
  scopes: Scope[];
  keyHash: Buffer;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

interface ApiKeyRow {
  id: string;
  tenant_id: string;
  name: string;
  scopes: Scope[];
  key_hash: Buffer;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

function toRecord(row: ApiKeyRow): ApiKeyRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    scopes: row.scopes,
    keyHash: row.key_hash,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}

/** API keys in PostgreSQL: stored as SHA-256 hashes, revoked (never deleted) with a NOTIFY. */
export class ApiKeyStore {
  private readonly table: string;
  private readonly channel: string;

  constructor(
    private readonly pool: Pool,
    schema: string,
  ) {
    // schema is validated as a plain identifier by the config schema
    this.table = `"${schema}".api_keys`;
    this.channel = apiKeyChannel(schema);
  }

  /** Creates a key for the tenant; the returned `key` is the only copy of the secret. */
  async create(
    tenantId: string,
    name: string,
    scopes: Scope[],
    presetKey?: { id: string; key: string },
  ): Promise<{ record: ApiKeyRecord; key: string }> {
    const { id, key } = presetKey ?? generateApiKey();
    const res = await this.pool.query<ApiKeyRow>(
      `INSERT INTO ${this.table} (id, tenant_id, name, key_hash, scopes)
       VALUES ($1, $2, $3, $4, $5) RETURNING *`,
      [id, tenantId, name, hashApiKey(key), [...new Set(scopes)]],
    );
    const row = res.rows[0];
    if (!row) throw new Error('INSERT returned no row');
    return { record: toRecord(row), key };
  }

  /** The key with this id, whichever tenant it belongs to (authentication looks up by id). */
  async find(id: string): Promise<ApiKeyRecord | undefined> {
    const res = await this.pool.query<ApiKeyRow>(`SELECT * FROM ${this.table} WHERE id = $1`, [id]);
    const row = res.rows[0];
    return row ? toRecord(row) : undefined;
  }

  /** The tenant's live keys, newest first. */
  async list(tenantId: string): Promise<ApiKeyRecord[]> {
    const res = await this.pool.query<ApiKeyRow>(
      `SELECT * FROM ${this.table} WHERE tenant_id = $1 AND revoked_at IS NULL
       ORDER BY created_at DESC, id`,
      [tenantId],
    );
    return res.rows.map(toRecord);
  }

  /** Revokes a live key of the tenant and tells every replica; false when there is none. */
  async revoke(tenantId: string, id: string): Promise<boolean> {
    const res = await this.pool.query(
      `WITH revoked AS (
         UPDATE ${this.table} SET revoked_at = now()
         WHERE id = $1 AND tenant_id = $2 AND revoked_at IS NULL RETURNING id
       )
       SELECT pg_notify($3, id) FROM revoked`,
      [id, tenantId, this.channel],
    );
    return (res.rowCount ?? 0) > 0;
  }

  /** Records use of a key (coarse: callers throttle how often). */
  async touch(id: string): Promise<void> {
    await this.pool.query(`UPDATE ${this.table} SET last_used_at = now() WHERE id = $1`, [id]);
  }
}
