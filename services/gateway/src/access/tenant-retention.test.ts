import { eventually } from '@reten/testing';
import { startTestGateway } from '../test-fixture';
import type { TestGateway } from '../test-fixture';
import { api } from '../test-api';

const LIMITS = '/api/v1/tenant/limits';

describe("a tenant's events retention", () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway('tenant retention', {
      env: {
        RETENTION_EVENTS_DEFAULT_SECONDS: '600',
        RETENTION_EVENTS_MIN_SECONDS: '1',
        RETENTION_EVENTS_MAX_SECONDS: '3600',
        RETENTION_INTERVAL_SECONDS: '1',
        RETENTION_PARTITION_SECONDS: '60',
        WEBHOOK_ALLOW_PRIVATE: 'true',
      },
    });
  });

  afterAll(async () => {
    await gw?.close();
  });

  it('is the default (null) until set, settable within the configured bounds, and per tenant', async () => {
    const other = await gw.createKey('retention-other', ['admin']);
    expect((await api(gw, 'GET', LIMITS)).body).toMatchObject({ events_retention_seconds: null });

    const tooLong = await api(gw, 'PATCH', LIMITS, { events_retention_seconds: 3601 });
    expect(tooLong.status).toBe(422);
    expect(tooLong.body).toMatchObject({
      error: {
        code: 'validation_failed',
        details: [{ path: 'body.events_retention_seconds', message: expect.any(String) }],
      },
    });

    const set = await api(gw, 'PATCH', LIMITS, { events_retention_seconds: 1200 });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ events_retention_seconds: 1200 });
    expect((await api(gw, 'GET', LIMITS)).body).toMatchObject({ events_retention_seconds: 1200 });
    expect((await api(gw, 'GET', LIMITS, undefined, { auth: other })).body).toMatchObject({
      events_retention_seconds: null,
    });

    const reset = await api(gw, 'PATCH', LIMITS, { events_retention_seconds: null });
    expect(reset.body).toMatchObject({ events_retention_seconds: null });
  });

  it("removes a tenant's events once past its own period, and only that tenant's", async () => {
    const shortKey = await gw.createKey('retention-short', ['admin']);
    const short = { auth: shortKey };
    expect((await api(gw, 'PATCH', LIMITS, { events_retention_seconds: 1 }, short)).status).toBe(
      200,
    );
    const gone = await api(gw, 'POST', '/api/v1/events', { event_type: 'r.x', data: {} }, short);
    const kept = await api(gw, 'POST', '/api/v1/events', { event_type: 'r.x', data: {} });
    const goneId = (gone.body as { event_id: string }).event_id;
    const keptId = (kept.body as { event_id: string }).event_id;

    await eventually(
      async () =>
        expect((await api(gw, 'GET', `/api/v1/events/${goneId}`, undefined, short)).status).toBe(
          404,
        ),
      { timeoutMs: 20_000 },
    );
    expect((await api(gw, 'GET', `/api/v1/events/${keptId}`)).status).toBe(200);
    const metrics = await fetch(`${gw.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/reten_retention_rows_removed_total\{[^}]*table="events"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/reten_retention_last_run_timestamp_seconds\{[^}]*\} [1-9]/);
    // partitions reach past now (two partitions of 60 s ahead)
    expect(metrics).toMatch(
      /reten_retention_partitions_ahead_seconds\{[^}]*table="events"[^}]*\} [1-9]/,
    );
  });

  it('says so when a replay starts before the retention window, and replays what is left', async () => {
    const created = await api(gw, 'POST', '/api/v1/webhooks', {
      url: 'http://127.0.0.1:9/hook',
      event_types: ['nothing.*'],
    });
    expect(created.status).toBe(201);
    const id = (created.body as { id: string }).id;

    const old = new Date(Date.now() - 3600_000).toISOString();
    const before = await api(gw, 'POST', `/api/v1/webhooks/${id}/replay`, { since: old });
    expect(before.status).toBe(202);
    expect(before.body).toEqual({
      queued: 0,
      retained_since: expect.any(String),
      notice: expect.stringContaining('retention'),
    });
    const retainedSince = Date.parse((before.body as { retained_since: string }).retained_since);
    expect(Math.abs(retainedSince - (Date.now() - 600_000))).toBeLessThan(30_000);

    const recent = new Date(Date.now() - 60_000).toISOString();
    const within = await api(gw, 'POST', `/api/v1/webhooks/${id}/replay`, { since: recent });
    expect(within.body).toEqual({ queued: 0 });
  });
});
