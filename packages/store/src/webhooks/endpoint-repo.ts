import type { Pool } from 'pg';
import { inTransaction } from '../transaction';
import { DeliveryKeyOrder } from './key-order';
import type { WebhookEndpoint } from '@reten/contracts';
import type { EndpointForDelivery, WebhookEndpointRecord } from './webhook-rows';

const DEADLOCK_DETECTED = '40P01';
/** A deadlock with the delivery service's writes is retried this many times in all. */
const DELETE_ATTEMPTS = 5;

/** The columns the API reads (never the secrets). */
type EndpointRecord = Pick<
  WebhookEndpointRecord,
  | 'id'
  | 'tenant_id'
  | 'url'
  | 'description'
  | 'event_types'
  | 'enabled'
  | 'disabled_reason'
  | 'rate_limit_per_second'
  | 'headers'
  | 'retry_schedule_seconds'
  | 'signing'
  | 'public_key'
  | 'on_failure'
  | 'created_at'
  | 'updated_at'
>;

/** The columns the delivery service reads (secrets included). */
type SigningRecord = Pick<
  WebhookEndpointRecord,
  | 'id'
  | 'tenant_id'
  | 'url'
  | 'event_types'
  | 'enabled'
  | 'rate_limit_per_second'
  | 'headers'
  | 'retry_schedule_seconds'
  | 'signing'
  | 'secret'
  | 'previous_secret'
  | 'previous_secret_expires_at'
  | 'private_key'
  | 'on_failure'
>;

const SIGNING_COLUMNS =
  'id, tenant_id, url, event_types, enabled, rate_limit_per_second, headers, retry_schedule_seconds, signing, secret, previous_secret, previous_secret_expires_at, private_key, on_failure';

function toEndpointForDelivery(r: SigningRecord): EndpointForDelivery {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    url: r.url,
    eventTypes: r.event_types,
    enabled: r.enabled,
    rateLimitPerSecond: r.rate_limit_per_second,
    headers: r.headers,
    retryScheduleSeconds: r.retry_schedule_seconds,
    signing: r.signing,
    secret: r.secret,
    previousSecret: r.previous_secret,
    previousSecretExpiresAt: r.previous_secret_expires_at,
    privateKey: r.private_key,
    onFailure: r.on_failure,
  };
}

const COLUMNS =
  'id, tenant_id, url, description, event_types, enabled, disabled_reason, rate_limit_per_second, headers, retry_schedule_seconds, signing, public_key, on_failure, created_at, updated_at';

function toApi(r: EndpointRecord): WebhookEndpoint {
  return {
    id: r.id,
    url: r.url,
    description: r.description,
    event_types: r.event_types,
    enabled: r.enabled,
    disabled_reason: r.disabled_reason,
    rate_limit_per_second: r.rate_limit_per_second,
    headers: r.headers,
    retry_schedule_seconds: r.retry_schedule_seconds,
    signing: r.signing,
    public_key: r.public_key,
    on_failure: r.on_failure,
    created_at: r.created_at.toISOString(),
    updated_at: r.updated_at.toISOString(),
  };
}

/** A new endpoint row: what signing needs (no previous secret yet), and what the API shows. */
export type NewEndpoint = Omit<
  EndpointForDelivery,
  'previousSecret' | 'previousSecretExpiresAt'
> & {
  description: string;
  publicKey: string | null;
};

export interface EndpointChange {
  url?: string;
  description?: string;
  eventTypes?: string[];
  enabled?: boolean;
  rateLimitPerSecond?: number;
  headers?: Record<string, string>;
  retryScheduleSeconds?: number[] | null;
  onFailure?: 'skip' | 'block';
}

/**
 * The `webhook_endpoints` table: the API's reads and writes (without secrets) and the delivery
 * service's reads (with them). Every query is scoped to a tenant.
 */
export class WebhookEndpointRepo {
  private readonly keyOrder: DeliveryKeyOrder | undefined;

  /** `schema` names the dispatcher's NOTIFY channel (needed by `update`, not by the delivery service's reads). */
  constructor(
    private readonly pool: Pool,
    schema?: string,
  ) {
    this.keyOrder = schema === undefined ? undefined : new DeliveryKeyOrder(pool, schema);
  }

  /** Every endpoint of a tenant, enabled or not, with what signing needs. */
  async endpointsOf(tenantId: string): Promise<EndpointForDelivery[]> {
    const res = await this.pool.query<SigningRecord>(
      `SELECT ${SIGNING_COLUMNS} FROM webhook_endpoints WHERE tenant_id = $1 ORDER BY id`,
      [tenantId],
    );
    return res.rows.map(toEndpointForDelivery);
  }

  async create(e: NewEndpoint): Promise<WebhookEndpoint> {
    const res = await this.pool.query<EndpointRecord>(
      `INSERT INTO webhook_endpoints (id, tenant_id, url, description, event_types, enabled,
         rate_limit_per_second, headers, retry_schedule_seconds, signing, secret, public_key, private_key,
         on_failure)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12, $13, $14)
       RETURNING ${COLUMNS}`,
      [
        e.id,
        e.tenantId,
        e.url,
        e.description,
        e.eventTypes,
        e.enabled,
        e.rateLimitPerSecond,
        JSON.stringify(e.headers),
        e.retryScheduleSeconds,
        e.signing,
        e.secret,
        e.publicKey,
        e.privateKey,
        e.onFailure,
      ],
    );
    return toApi(res.rows[0] as EndpointRecord);
  }

  async get(tenantId: string, id: string): Promise<WebhookEndpoint | undefined> {
    const res = await this.pool.query<EndpointRecord>(
      `SELECT ${COLUMNS} FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
    );
    const row = res.rows[0];
    return row ? toApi(row) : undefined;
  }

  /** Endpoints ordered by id, after `afterId`, `limit` at most. */
  async list(tenantId: string, afterId: string | undefined, limit: number) {
    const res = await this.pool.query<EndpointRecord>(
      `SELECT ${COLUMNS} FROM webhook_endpoints
        WHERE tenant_id = $1 AND ($2::text IS NULL OR id > $2)
        ORDER BY id LIMIT $3`,
      [tenantId, afterId ?? null, limit],
    );
    return res.rows.map(toApi);
  }

  async update(
    tenantId: string,
    id: string,
    c: EndpointChange,
  ): Promise<WebhookEndpoint | undefined> {
    const res = await this.pool.query<EndpointRecord>(
      `UPDATE webhook_endpoints SET
          url = COALESCE($3, url),
          description = COALESCE($4, description),
          event_types = COALESCE($5, event_types),
          enabled = COALESCE($6, enabled),
          disabled_reason = CASE WHEN $6 IS TRUE THEN NULL ELSE disabled_reason END,
          failing_since = CASE WHEN $6 IS TRUE THEN NULL ELSE failing_since END,
          rate_limit_per_second = COALESCE($7, rate_limit_per_second),
          headers = COALESCE($8::jsonb, headers),
          retry_schedule_seconds = CASE WHEN $9 THEN $10::int[] ELSE retry_schedule_seconds END,
          on_failure = COALESCE($11, on_failure),
          updated_at = now()
        WHERE tenant_id = $1 AND id = $2
        RETURNING ${COLUMNS}`,
      [
        tenantId,
        id,
        c.url ?? null,
        c.description ?? null,
        c.eventTypes ?? null,
        c.enabled ?? null,
        c.rateLimitPerSecond ?? null,
        c.headers ? JSON.stringify(c.headers) : null,
        c.retryScheduleSeconds !== undefined,
        c.retryScheduleSeconds ?? null,
        c.onFailure ?? null,
      ],
    );
    const row = res.rows[0];
    if (row && c.onFailure === 'skip') await this.unblockKeys(tenantId, id);
    return row ? toApi(row) : undefined;
  }

  /**
   * Lets go of every ordering key the endpoint's failed deliveries hold (`on_failure` back to
   * `skip`): the delivery service's dispatcher then releases the next delivery of each key.
   */
  private async unblockKeys(tenantId: string, id: string): Promise<void> {
    const res = await this.pool.query<{ ordering_key: string }>(
      `UPDATE webhook_deliveries SET holds_key = false
        WHERE tenant_id = $1 AND endpoint_id = $2 AND holds_key
        RETURNING ordering_key`,
      [tenantId, id],
    );
    // without the schema (no NOTIFY channel) the delivery service's periodic sweep releases them
    if (res.rows.length > 0 && this.keyOrder !== undefined) {
      await this.keyOrder.release(
        res.rows.map((r) => ({ endpointId: id, orderingKey: r.ordering_key })),
      );
    }
  }

  /**
   * Deletes the endpoint, its deliveries and their attempts, in one transaction (the counts go
   * by cascade; its count deltas not compacted yet, by the next compaction), and leaves its
   * tombstone: later statements of the delivery service store nothing of it, and what one that
   * found it just before stores after this goes with the tombstone (sweepEndpointTombstones,
   * see LIVE_ENDPOINTS in delivery-attempts.ts). The delivery service may be recording outcomes
   * of those deliveries meanwhile, locking the same rows in another order: PostgreSQL then
   * aborts one of the two with a deadlock, and when it is this transaction it runs again (the
   * delivery service retries its own writes too).
   */
  async delete(tenantId: string, id: string): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await inTransaction(this.pool, async (client) => {
          const res = await client.query(
            'DELETE FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2',
            [tenantId, id],
          );
          if ((res.rowCount ?? 0) === 0) return false;
          await client.query(
            'DELETE FROM webhook_deliveries WHERE tenant_id = $1 AND endpoint_id = $2',
            [tenantId, id],
          );
          await client.query(
            'DELETE FROM webhook_attempts WHERE tenant_id = $1 AND endpoint_id = $2',
            [tenantId, id],
          );
          await client.query(
            `INSERT INTO webhook_endpoint_tombstones (endpoint_id, tenant_id) VALUES ($2, $1)
             ON CONFLICT (endpoint_id) DO UPDATE SET deleted_at = now()`,
            [tenantId, id],
          );
          return true;
        });
      } catch (err) {
        if ((err as { code?: unknown }).code !== DEADLOCK_DETECTED || attempt >= DELETE_ATTEMPTS) {
          throw err;
        }
      }
    }
  }

  /**
   * New current secret; the old one keeps signing until `graceSeconds` from now (0 = not at
   * all). Returns undefined for an unknown endpoint and 'ed25519' for an asymmetric one.
   */
  async rotateSecret(
    tenantId: string,
    id: string,
    secret: string,
    graceSeconds: number,
  ): Promise<{ previousExpiresAt: Date | null } | 'ed25519' | undefined> {
    const res = await this.pool.query<{ signing: string; previous_secret_expires_at: Date | null }>(
      `UPDATE webhook_endpoints SET
          previous_secret = CASE WHEN $4 > 0 THEN secret ELSE NULL END,
          previous_secret_expires_at = CASE WHEN $4 > 0 THEN now() + make_interval(secs => $4) ELSE NULL END,
          secret = $3,
          updated_at = now()
        WHERE tenant_id = $1 AND id = $2 AND signing = 'hmac'
        RETURNING signing, previous_secret_expires_at`,
      [tenantId, id, secret, graceSeconds],
    );
    const row = res.rows[0];
    if (row) return { previousExpiresAt: row.previous_secret_expires_at };
    return (await this.get(tenantId, id)) ? 'ed25519' : undefined;
  }
}
