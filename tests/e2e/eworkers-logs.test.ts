import { startTestEworker } from '@reten/eworker/testing';
import type { EworkerService } from '@reten/eworker';
import { eventually } from '@reten/testing';
import { clientLogEworker } from '../../services/eworkers/logs/src/client-log-eworker';
import { startTestGateway } from '../../services/gateway/src/test-fixture';
import type { TestGateway } from '../../services/gateway/src/test-fixture';
import { api, eventIdOf } from '../../services/gateway/src/test-api';

jest.setTimeout(60_000);

let gw: TestGateway;
let eworker: EworkerService;

const client = {
  browser: 'Chrome',
  version: '131.0',
  os: 'macOS',
  screen_width: 1440,
  screen_height: 900,
  app_name: 'shop-web',
  app_version: '2.4.1',
};

beforeAll(async () => {
  gw = await startTestGateway('eworkers logs', { tenantId: 'acme' });
  eworker = await startTestEworker(clientLogEworker, {
    databaseUrl: gw.schema.databaseUrl,
    schema: gw.schema.schema,
    rabbitUrl: gw.vhost.url,
  });
});

afterAll(async () => {
  await eworker?.stop();
  await gw?.close();
});

interface LineRow {
  line_no: number;
  level: string;
  message: string;
  app_name: string;
  revision: number;
}

async function lines(eventId: string): Promise<LineRow[]> {
  const res = await gw.schema.pool.query<LineRow>(
    `SELECT line_no, level, message, app_name, revision FROM client_log_lines
      WHERE tenant_id = 'acme' AND event_id = $1 ORDER BY line_no`,
    [eventId],
  );
  return res.rows;
}

describe('the client-log eworker (log:ClientLog)', () => {
  it('stores each line of an event in its own row, queryable by app, level and time', async () => {
    const id = eventIdOf(
      await api(gw, 'POST', '/v1.0/event/log:ClientLog', {
        client,
        logs: [
          { timestamp: '2026-11-25T10:00:00Z', level: 'info', message: 'page loaded' },
          { timestamp: '2026-11-25T10:00:01.500Z', level: 'error', message: 'TypeError: x' },
          { timestamp: '2026-11-25T10:00:02+01:00', level: 'error', message: 'retry failed' },
        ],
      }),
    );
    await eventually(async () => expect(await lines(id)).toHaveLength(3));
    const errors = await gw.schema.pool.query(
      `SELECT message, logged_at, browser, browser_version, os, screen_width, app_version
         FROM client_log_lines
        WHERE tenant_id = 'acme' AND app_name = 'shop-web' AND level = 'error'
          AND logged_at >= '2026-11-25T09:00:00Z' ORDER BY logged_at`,
    );
    expect(errors.rows).toEqual([
      {
        message: 'retry failed',
        logged_at: new Date('2026-11-25T09:00:02Z'),
        browser: 'Chrome',
        browser_version: '131.0',
        os: 'macOS',
        screen_width: 1440,
        app_version: '2.4.1',
      },
      expect.objectContaining({ message: 'TypeError: x' }) as unknown,
    ]);
    const metrics = await eworker.registry.metrics();
    expect(metrics).toMatch(/reten_client_log_lines_total\{level="error"[^}]*\} 2/);
    expect(metrics).toMatch(/reten_client_log_lines_total\{level="info"[^}]*\} 1/);
    const detail = await api(gw, 'GET', `/api/v1/events/${id}`);
    expect(detail.body).toMatchObject({ eworkers: [{ eworker: 'logs', status: 'processed' }] });
  });

  it('answers 422 naming body.logs.0.level for an unknown level, storing nothing', async () => {
    const res = await api(gw, 'POST', '/v1.0/event/log:ClientLog', {
      client,
      logs: [{ timestamp: '2026-11-25T10:00:00Z', level: 'verbose', message: 'x' }],
    });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({
      error: { code: 'validation_failed', details: [{ path: 'body.logs.0.level' }] },
    });
  });

  it('replaces the lines of an event with those of its new revision', async () => {
    const id = eventIdOf(
      await api(gw, 'POST', '/v1.0/event/log:ClientLog', {
        client,
        logs: [
          { timestamp: '2026-11-25T11:00:00Z', level: 'warn', message: 'first' },
          { timestamp: '2026-11-25T11:00:01Z', level: 'warn', message: 'second' },
        ],
      }),
    );
    await eventually(async () => expect(await lines(id)).toHaveLength(2));
    const put = await api(gw, 'PUT', `/api/v1/events/${id}`, {
      data: {
        client,
        logs: [{ timestamp: '2026-11-25T11:00:00Z', level: 'debug', message: 'corrected' }],
      },
    });
    expect(put.status).toBe(200);
    await eventually(async () =>
      expect(await lines(id)).toEqual([
        { line_no: 0, level: 'debug', message: 'corrected', app_name: 'shop-web', revision: 2 },
      ]),
    );
  });
});
