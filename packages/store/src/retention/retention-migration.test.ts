import { readdirSync } from 'node:fs';
import { createTestSchema, silentLogger } from '@reten/testing';
import type { TestSchema } from '@reten/testing';
import { DEFAULT_MIGRATIONS_DIR, runMigrations } from '../migrate';
import { WebhookEndpointRepo } from '../webhooks/endpoint-repo';
import { eventKeyAt } from './event-key';

const RETENTION_MIGRATION = '1733500000000';
const before = readdirSync(DEFAULT_MIGRATIONS_DIR).filter(
  (f) => f.endsWith('.sql') && f < RETENTION_MIGRATION,
).length;

const OLD = Date.now() - 3 * 86_400_000;
const id = (n: number) => `${eventKeyAt(OLD + n)}${'0'.repeat(16)}`;

/** Rows as the schema before the retention migration stores them. */
async function seedPreviousSchema(schema: TestSchema): Promise<void> {
  const q = (sql: string, params: unknown[] = []) => schema.pool.query(sql, params);
  await q(`INSERT INTO tenants (id, name) VALUES ('acme', 'Acme'), ('other', 'Other')`);
  await q(
    `INSERT INTO events (tenant_id, event_id, revision, event_type, occurred_at, data, published_at, is_current, stream_position)
     VALUES ('acme', $1, 1, 'order.created', now(), '{"n":1}', now(), false, 1),
            ('acme', $1, 2, 'order.created', now(), '{"n":2}', now(), true, 2),
            ('other', $2, 1, 'order.paid', now(), '{"n":3}', NULL, true, NULL),
            ('acme', 'evt_hand-made', 1, 'x', now(), '{}', now(), true, 3)`,
    [id(1), id(2)],
  );
  await q(
    `INSERT INTO eworker_marks (eworker, event_id, revision, tenant_id, event_type, status)
     VALUES ('logs', $1, 2, 'acme', 'order.created', 'processed')`,
    [id(1)],
  );
  await q(
    `INSERT INTO client_log_lines (tenant_id, event_id, revision, line_no, logged_at, level, message, app_name, app_version)
     VALUES ('acme', $1, 2, 0, now(), 'error', 'boom', 'shop', '1.0')`,
    [id(1)],
  );
  await q(
    `INSERT INTO webhook_endpoints (id, tenant_id, url, secret) VALUES ('wh_1', 'acme', 'http://x', 's')`,
  );
  await q(
    `INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, revision, event_type, event_seq, status)
     VALUES ('dlv_1', 'acme', 'wh_1', $1, 2, 'order.created', 2, 'succeeded')`,
    [id(1)],
  );
  await q(
    `INSERT INTO webhook_attempts (tenant_id, delivery_id, endpoint_id, attempt, started_at, latency_ms, succeeded, status_code)
     VALUES ('acme', 'dlv_1', 'wh_1', 1, now() - interval '3 days', 12, true, 204)`,
  );
  await q(
    `INSERT INTO idempotency_keys (tenant_id, idempotency_key, request_hash, state, expires_at)
     VALUES ('acme', 'k1', 'h', 'completed', now() + interval '1 day')`,
  );
}

describe('the retention migration', () => {
  let schema: TestSchema;

  beforeEach(async () => {
    schema = await createTestSchema('retention migration', { migrate: false });
    const migrate = (count?: number) =>
      runMigrations({
        databaseUrl: schema.databaseUrl,
        schema: schema.schema,
        log: silentLogger(),
        ...(count === undefined ? {} : { count }),
      });
    await migrate(before);
    await seedPreviousSchema(schema);
    await migrate();
  });

  afterEach(async () => {
    await schema?.drop();
  });

  it('keeps every row of the previous schema, in partitioned tables', async () => {
    const q = (sql: string) => schema.pool.query(sql);
    const events = await q(
      'SELECT tenant_id, event_id, revision, is_current, published_at IS NOT NULL AS published FROM events ORDER BY seq',
    );
    expect(events.rows).toEqual([
      { tenant_id: 'acme', event_id: id(1), revision: 1, is_current: false, published: true },
      { tenant_id: 'acme', event_id: id(1), revision: 2, is_current: true, published: true },
      { tenant_id: 'other', event_id: id(2), revision: 1, is_current: true, published: false },
      {
        tenant_id: 'acme',
        event_id: 'evt_hand-made',
        revision: 1,
        is_current: true,
        published: true,
      },
    ]);
    for (const table of [
      'eworker_marks',
      'client_log_lines',
      'webhook_deliveries',
      'webhook_attempts',
    ]) {
      expect((await q(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]).toEqual({ n: 1 });
    }
    expect((await q('SELECT count(*)::int AS n FROM idempotency_keys')).rows[0]).toEqual({ n: 1 });
    const kinds = await q(
      `SELECT relname, relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND relname IN
          ('events', 'eworker_marks', 'client_log_lines', 'webhook_deliveries', 'webhook_attempts')
        ORDER BY relname`,
    );
    expect(kinds.rows.map((r: { relkind: string }) => r.relkind)).toEqual([
      'p',
      'p',
      'p',
      'p',
      'p',
    ]);
    // the id that is not a ULID sits in the partition retention never drops
    const other = await q(`SELECT event_id FROM events_other`);
    expect(other.rows).toEqual([{ event_id: 'evt_hand-made' }]);
    const legacy = await q(`SELECT count(*)::int AS n FROM events_legacy`);
    expect(legacy.rows[0]).toEqual({ n: 3 });
  });

  it('keeps every unique guarantee across old and new partitions', async () => {
    const q = (sql: string, params: unknown[] = []) => schema.pool.query(sql, params);
    const insertEvent = (eventId: string, revision: number, current: boolean) =>
      q(
        `INSERT INTO events (tenant_id, event_id, revision, event_type, occurred_at, data, is_current)
         VALUES ('acme', $1, $2, 't', now(), '{}', $3) RETURNING seq::int`,
        [eventId, revision, current],
      );
    const fresh = `${eventKeyAt(Date.now())}${'1'.repeat(16)}`;
    const first = await insertEvent(fresh, 1, true);
    // the identity goes on from the old table's sequence
    expect(first.rows[0]?.seq).toBe(5);
    await expect(insertEvent(id(1), 2, false)).rejects.toMatchObject({ code: '23505' });
    await expect(insertEvent(id(1), 3, true)).rejects.toMatchObject({ code: '23505' });
    await expect(insertEvent(fresh, 1, false)).rejects.toMatchObject({ code: '23505' });
    await expect(insertEvent(fresh, 2, true)).rejects.toMatchObject({ code: '23505' });
    await expect(
      q(
        `INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, revision, event_type, event_seq)
         VALUES ('dlv_2', 'acme', 'wh_1', $1, 2, 'order.created', 2)`,
        [id(1)],
      ),
    ).rejects.toMatchObject({ code: '23505' });
    await expect(
      q(
        `INSERT INTO eworker_marks (eworker, event_id, revision, tenant_id, event_type, status)
         VALUES ('logs', $1, 2, 'acme', 'order.created', 'processed')`,
        [id(1)],
      ),
    ).rejects.toMatchObject({ code: '23505' });
    await expect(
      q(
        `INSERT INTO client_log_lines (tenant_id, event_id, revision, line_no, logged_at, level, message, app_name, app_version)
         VALUES ('acme', $1, 2, 0, now(), 'error', 'again', 'shop', '1.0')`,
        [id(1)],
      ),
    ).rejects.toMatchObject({ code: '23505' });
    // deleting an endpoint still deletes its deliveries and attempts, old partitions' too
    expect(await new WebhookEndpointRepo(schema.pool).delete('acme', 'wh_1')).toBe(true);
    expect((await q('SELECT count(*)::int AS n FROM webhook_attempts')).rows[0]).toEqual({ n: 0 });
    expect((await q('SELECT count(*)::int AS n FROM webhook_deliveries')).rows[0]).toEqual({
      n: 0,
    });
  });
});
