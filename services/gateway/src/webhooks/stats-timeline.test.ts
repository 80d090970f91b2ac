import { startTestGateway } from '../test-fixture';
import type { TestGateway } from '../test-fixture';
import { DeliveryAttemptRepo } from '@reten/store';
import { api } from '../test-api';

interface Timeline {
  since: string;
  until: string;
  bucket_seconds: number;
  buckets: { start: string; attempts: number; succeeded: number; failed: number }[];
}

describe('GET /api/v1/webhooks/{id}/stats/timeline', () => {
  let gw: TestGateway;
  let webhookId: string;
  const since = new Date('2026-01-01T00:00:00Z');
  let events = 0;

  /**
   * One delivery with attempts at these offsets (seconds after `since`) and outcomes, stored as
   * the delivery service stores them.
   */
  async function attempts(list: { at: number; ok: boolean }[], tenantId = gw.tenantId) {
    const repo = new DeliveryAttemptRepo(gw.schema.pool);
    events += 1;
    const [rows] = await repo.ensureMany([
      {
        tenantId,
        event: { eventId: `evt_timeline_${events}`, revision: 1, eventType: 'a.b', seq: '1' },
        endpointIds: [webhookId],
      },
    ]);
    let row = rows?.[0];
    if (!row) throw new Error('no delivery row');
    for (const a of list) {
      const token: string | null = a.ok ? null : `retry_${row.attempts}`;
      await repo.recordMany([
        {
          row,
          expectedToken: row.token,
          result: {
            startedAt: new Date(since.getTime() + a.at * 1000),
            latencyMs: 10,
            succeeded: a.ok,
            statusCode: a.ok ? 200 : 500,
            phase: a.ok ? null : 'status',
            error: null,
            responseExcerpt: null,
          },
          outcome: { status: a.ok ? 'succeeded' : 'retrying', token, nextAttemptAt: null },
        },
      ]);
      row = { ...row, token, attempts: row.attempts + 1 };
    }
  }

  beforeAll(async () => {
    // the attempts are dated in the past, beyond the attempts' retention period: the runner
    // would remove them (and their counts) while the test reads them
    gw = await startTestGateway('webhook timeline', {
      env: { WEBHOOK_ALLOW_PRIVATE: 'true', RETENTION_ENABLED: 'false' },
    });
    const created = await api(gw, 'POST', '/api/v1/webhooks', { url: 'http://127.0.0.1:9/hook' });
    expect(created.status).toBe(201);
    webhookId = (created.body as { id: string }).id;
    // bucket 0: one failure then a success; bucket 2: one failure; after the range: ignored
    await attempts([
      { at: 10, ok: false },
      { at: 70, ok: true },
    ]);
    await attempts([{ at: 2 * 3600 + 5, ok: false }]);
    await attempts([{ at: 5 * 3600, ok: true }]);
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('counts attempts, successes and failures per bucket, empty buckets included', async () => {
    const until = new Date(since.getTime() + 3 * 3600 * 1000);
    const res = await api(
      gw,
      'GET',
      `/api/v1/webhooks/${webhookId}/stats/timeline?since=${since.toISOString()}&until=${until.toISOString()}&bucket_seconds=3600`,
    );
    expect(res.status).toBe(200);
    const body = res.body as Timeline;
    expect(body.bucket_seconds).toBe(3600);
    expect(body.buckets).toEqual([
      { start: '2026-01-01T00:00:00.000Z', attempts: 2, succeeded: 1, failed: 1 },
      { start: '2026-01-01T01:00:00.000Z', attempts: 0, succeeded: 0, failed: 0 },
      { start: '2026-01-01T02:00:00.000Z', attempts: 1, succeeded: 0, failed: 1 },
    ]);
  });

  it('answers 404 for another tenant’s endpoint', async () => {
    const other = await gw.createKey('globex', ['webhooks:manage']);
    const res = await api(
      { url: gw.url, apiKey: other },
      'GET',
      `/api/v1/webhooks/${webhookId}/stats/timeline`,
    );
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: { code: 'not_found', status: 404 } });
  });

  it('needs the webhooks:manage scope', async () => {
    const reader = await gw.createKey(gw.tenantId, ['events:read']);
    const res = await api(
      { url: gw.url, apiKey: reader },
      'GET',
      `/api/v1/webhooks/${webhookId}/stats/timeline`,
    );
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: { code: 'forbidden' } });
  });

  it('answers 422 naming bucket_seconds when the range holds too many buckets', async () => {
    const res = await api(
      gw,
      'GET',
      `/api/v1/webhooks/${webhookId}/stats/timeline?since=2020-01-01T00:00:00Z&bucket_seconds=60`,
    );
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({
      error: { code: 'validation_failed', details: [{ path: 'query.bucket_seconds' }] },
    });
  });

  it('answers 422 naming since when it is not before until', async () => {
    const res = await api(
      gw,
      'GET',
      `/api/v1/webhooks/${webhookId}/stats/timeline?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z`,
    );
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error: { details: [{ path: 'query.since' }] } });
  });
});
