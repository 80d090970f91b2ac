import { createTestSchema, logSink } from '@reten/testing';
import type { TestSchema } from '@reten/testing';
import { WebhookEndpointRepo, newEventId } from '@reten/store';
import { OutageLog } from './outage-log';
import { TombstoneSweeper } from './tombstone-sweeper';

describe('TombstoneSweeper', () => {
  let schema: TestSchema;

  beforeAll(async () => {
    schema = await createTestSchema('tombstone sweeper');
  });

  afterAll(async () => {
    await schema?.drop();
  });

  it('deletes the rows a batch stored of an endpoint while it was being deleted, once past the grace, and counts them', async () => {
    const endpoints = new WebhookEndpointRepo(schema.pool);
    await schema.pool.query(
      `INSERT INTO webhook_endpoints (id, tenant_id, url, event_types, secret)
       VALUES ('we_swept', 'acme', 'https://example.com/hook', '{}', 'whsec_test')`,
    );
    expect(await endpoints.delete('acme', 'we_swept')).toBe(true);
    // what a batch that found the endpoint just before stores after the delete
    await schema.pool.query(
      `INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, revision, event_type, event_seq)
       VALUES ('dlv_swept', 'acme', 'we_swept', $1, 1, 't', 1)`,
      [newEventId()],
    );
    const sink = logSink('info');
    const swept: number[] = [];
    const state = new OutageLog({
      log: sink.log,
      downMessage: 'down',
      upMessage: 'up',
      onFailure: () => swept.push(-1),
    });
    const young = new TombstoneSweeper(schema.pool, 60_000, state, sink.log, (n) => swept.push(n));
    await young.runRound();
    expect(swept).toEqual([]);
    const sweeper = new TombstoneSweeper(
      schema.pool,
      60_000,
      state,
      sink.log,
      (n) => swept.push(n),
      0,
    );
    await sweeper.runRound();
    expect(swept).toEqual([1]);
    const left = await schema.pool.query<{ rows: number; tombstones: number }>(
      `SELECT (SELECT count(*)::int FROM webhook_deliveries WHERE endpoint_id = 'we_swept') AS rows,
              (SELECT count(*)::int FROM webhook_endpoint_tombstones) AS tombstones`,
    );
    expect(left.rows[0]).toEqual({ rows: 0, tombstones: 0 });
    expect(sink.lines.some((l) => l.rows === 1 && l.tombstones === 1)).toBe(true);
    await sweeper.runRound();
    expect(swept).toEqual([1]);
  });
});
