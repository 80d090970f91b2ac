import { gzipSync } from 'node:zlib';
import { eventually } from '@reten/testing';
import { startTestGateway } from './test-fixture';
import type { TestGateway } from './test-fixture';
import { api, eventIdOf } from './test-api';
import type { ApiResponse } from './test-api';
import { grownTables, rowCounts } from './fuzz/stored-rows';

const EVENT_ID = 'evt_01J8Z3V6ZV4X3M2N9Q8R7S6T5V';

describe('hostile input: a 4xx in the envelope, and nothing stored', () => {
  let gw: TestGateway;
  let webhookId: string;

  beforeAll(async () => {
    gw = await startTestGateway('hostile input', {
      env: { WEBHOOK_ALLOW_PRIVATE: 'true', EVENT_SCHEMA_POLL_INTERVAL_MS: '100' },
    });
    const created = await api(gw, 'POST', '/api/v1/webhooks', { url: 'http://127.0.0.1:9/h' });
    webhookId = (created.body as { id: string }).id;
  });

  afterAll(async () => {
    await gw?.close();
  });

  /** Sends the request and checks its answer and that no table of the schema grew. */
  async function expectRefused(
    send: () => Promise<ApiResponse>,
    status: number,
    code: string,
    path?: string,
  ): Promise<ApiResponse> {
    const before = await rowCounts(gw.schema);
    const res = await send();
    expect({
      status: res.status,
      code: (res.body as { error?: { code?: string } }).error?.code,
    }).toEqual({ status, code });
    expect(res.body).toEqual({
      error: expect.objectContaining({ code, status, message: expect.any(String) }),
    });
    if (path) {
      expect(res.body).toMatchObject({ error: { details: [expect.objectContaining({ path })] } });
    }
    expect(grownTables(before, await rowCounts(gw.schema))).toEqual([]);
    return res;
  }

  const form = { 'content-type': 'application/x-www-form-urlencoded' };

  it('answers 415 to a token request sent as a form or text, never a token with every scope', async () => {
    for (const type of [form['content-type'], 'text/plain']) {
      const res = await api(gw, 'POST', '/api/v1/auth/token', '{"scopes":["stream:read"]}', {
        raw: true,
        headers: { 'content-type': type },
      });
      expect({ status: res.status, body: res.body }).toEqual({
        status: 415,
        body: { error: expect.objectContaining({ code: 'unsupported_media_type' }) },
      });
    }
    const asNull = await api(gw, 'POST', '/api/v1/auth/token', null);
    expect(asNull.status).toBe(422);
    const narrowed = await api(gw, 'POST', '/api/v1/auth/token', { scopes: ['stream:read'] });
    expect((narrowed.body as { scopes: string[] }).scopes).toEqual(['stream:read']);
    const noBody = await api(gw, 'POST', '/api/v1/auth/token');
    expect(noBody.status).toBe(200);
  });

  it('answers 415 to a secret rotation sent as a form and keeps the secret', async () => {
    const secretOf = async () =>
      (
        await gw.schema.pool.query<{ secret: string; previous_secret: string | null }>(
          'SELECT secret, previous_secret FROM webhook_endpoints WHERE id = $1',
          [webhookId],
        )
      ).rows[0];
    const before = await secretOf();
    const res = await api(
      gw,
      'POST',
      `/api/v1/webhooks/${webhookId}/rotate-secret`,
      'grace_period_seconds=0',
      { raw: true, headers: form },
    );
    expect(res.status).toBe(415);
    const asNull = await api(gw, 'POST', `/api/v1/webhooks/${webhookId}/rotate-secret`, null);
    expect(asNull.status).toBe(422);
    expect(await secretOf()).toEqual(before);
  });

  it('answers 415 on every documented operation that takes a body, to a text/plain one', async () => {
    const doc = (await api(gw, 'GET', '/openapi.json')).body as {
      paths: Record<string, Record<string, { requestBody?: unknown }>>;
    };
    const checked: string[] = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        if (!op.requestBody) continue;
        const concrete = path
          .replace('{id}', webhookId)
          .replace('{type}', 'order.created')
          .replace('{name}', 'logs');
        const send = () =>
          api(gw, method.toUpperCase(), concrete, '{}', {
            raw: true,
            headers: { 'content-type': 'text/plain' },
          });
        await expectRefused(send, 415, 'unsupported_media_type');
        checked.push(`${method} ${path}`);
      }
    }
    expect(checked.length).toBeGreaterThanOrEqual(8);
  });

  it('answers 422 to JSON nested deeper than 100 levels on EVCI, POST and PUT events', async () => {
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    await expectRefused(
      () => api(gw, 'POST', '/v1.0/event/order.created', deep, { raw: true }),
      422,
      'validation_failed',
    );
    const body = `{"event_type":"a","data":${deep}}`;
    await expectRefused(
      () => api(gw, 'POST', '/api/v1/events', body, { raw: true }),
      422,
      'validation_failed',
    );
    await expectRefused(
      () => api(gw, 'PUT', `/api/v1/events/${EVENT_ID}`, `{"data":${deep}}`, { raw: true }),
      422,
      'validation_failed',
    );
    const ok = await api(
      gw,
      'POST',
      '/v1.0/event/order.created',
      JSON.parse(`${'['.repeat(99)}${']'.repeat(99)}`),
    );
    expect(ok.status).toBe(202);
  });

  it('answers 400 invalid_body to undecodable gzip, deflate or br data, 415 to another encoding', async () => {
    for (const encoding of ['gzip', 'deflate', 'br']) {
      await expectRefused(
        () =>
          api(gw, 'POST', '/v1.0/event/order.created', Buffer.from('not compressed at all'), {
            raw: true,
            headers: { 'content-type': 'application/json', 'content-encoding': encoding },
          }),
        400,
        'invalid_body',
      );
    }
    await expectRefused(
      () =>
        api(gw, 'POST', '/v1.0/event/order.created', '{}', {
          raw: true,
          headers: { 'content-type': 'application/json', 'content-encoding': 'compress' },
        }),
      415,
      'unsupported_media_type',
    );
    const gzipped = await api(gw, 'POST', '/v1.0/event/order.created', gzipSync('{"a":1}'), {
      raw: true,
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    });
    expect(gzipped.status).toBe(202);
  });

  it('answers 400 bad_request to %FF in a path parameter of any route', async () => {
    for (const [method, path] of [
      ['GET', '/api/v1/events/%FF'],
      ['PUT', '/api/v1/events/%FF'],
      ['POST', '/v1.0/event/%FF'],
      ['GET', '/api/v1/webhooks/%FF'],
      ['POST', '/api/v1/webhooks/%FF/rotate-secret'],
      ['DELETE', '/api/v1/api-keys/%FF'],
      ['GET', '/api/v1/deliveries/%E0%A4%A'],
      ['GET', '/api/v1/event-types/%FF'],
      ['GET', '/api/v1/eworkers/%FF/parked'],
    ] as const) {
      await expectRefused(
        () => api(gw, method, path, method === 'GET' ? undefined : {}),
        400,
        'bad_request',
      );
    }
  });

  it('answers 422 to U+0000 or an unpaired surrogate in a key name or webhook description', async () => {
    for (const name of ['a\u0000b', 'lone \ud800 high', 'lone \udc00 low']) {
      await expectRefused(
        () => api(gw, 'POST', '/api/v1/api-keys', { name, scopes: ['events:read'] }),
        422,
        'validation_failed',
        'body.name',
      );
      await expectRefused(
        () =>
          api(gw, 'POST', '/api/v1/webhooks', { url: 'http://127.0.0.1:9/x', description: name }),
        422,
        'validation_failed',
        'body.description',
      );
    }
    const paired = await api(gw, 'POST', '/api/v1/api-keys', {
      name: 'ok 😀',
      scopes: ['events:read'],
    });
    expect((paired.body as { name: string }).name).toBe('ok 😀');
  });

  it('answers 422 to a year-0 timestamp in since, until, replay since and an event timestamp', async () => {
    const year0 = '0000-01-01T00:00:00Z';
    for (const query of [`since=${year0}`, `until=${year0}`, 'since=0001-01-01T00:00:00%2B01:00']) {
      await expectRefused(
        () => api(gw, 'GET', `/api/v1/events?${query}`),
        422,
        'validation_failed',
      );
    }
    await expectRefused(
      () => api(gw, 'POST', `/api/v1/webhooks/${webhookId}/replay`, { since: year0 }),
      422,
      'validation_failed',
      'body.since',
    );
    await expectRefused(
      () => api(gw, 'POST', '/api/v1/events', { event_type: 'a', data: {}, timestamp: year0 }),
      422,
      'validation_failed',
      'body.timestamp',
    );
  });

  it('answers 400 invalid_json to a body that is not valid UTF-8', async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"msg":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}'),
    ]);
    await expectRefused(
      () => api(gw, 'POST', '/v1.0/event/order.created', bytes, { raw: true }),
      400,
      'invalid_json',
    );
  });

  it('answers 422 naming the path to numbers a double cannot hold', async () => {
    for (const [literal, path] of [
      ['1e400', 'body.n'],
      ['-1e400', 'body.n'],
      ['1e-400', 'body.n'],
      ['123456789012345678901234567890', 'body.n'],
    ]) {
      await expectRefused(
        () => api(gw, 'POST', '/v1.0/event/order.created', `{"n":${literal}}`, { raw: true }),
        422,
        'validation_failed',
        path,
      );
    }
    await expectRefused(
      () =>
        api(gw, 'POST', '/api/v1/events', '{"event_type":"a","data":{"x":[1,2e999]}}', {
          raw: true,
        }),
      422,
      'validation_failed',
      'body.data.x.1',
    );
    const kept = { small: 5e-324, big: 1.7976931348623157e308, int: 9007199254740991, dec: 0.1 };
    const read = await api(
      gw,
      'GET',
      `/api/v1/events/${eventIdOf(await api(gw, 'POST', '/v1.0/event/order.created', kept))}`,
    );
    expect((read.body as { data: unknown }).data).toEqual(kept);
  });

  it('answers 422 at ingest to a date-time of year 0 where the type schema asks for a date-time', async () => {
    await gw.schema.pool.query(
      `INSERT INTO eworkers (name, types) VALUES ('logs', ARRAY['log:ClientLog'])`,
    );
    await gw.schema.pool.query(
      `INSERT INTO event_type_schemas (event_type, eworker, json_schema, schema_hash, version)
       VALUES ('log:ClientLog', 'logs', $1, 'h1', 1)`,
      [
        JSON.stringify({
          type: 'object',
          properties: {
            logs: {
              type: 'array',
              items: {
                type: 'object',
                properties: { timestamp: { type: 'string', format: 'date-time' } },
              },
            },
          },
        }),
      ],
    );
    const send = () =>
      api(gw, 'POST', '/v1.0/event/log:ClientLog', {
        logs: [{ timestamp: '0000-01-01T00:00:00Z' }],
      });
    await eventually(async () => expect((await send()).status).toBe(422), { timeoutMs: 10_000 });
    await expectRefused(send, 422, 'validation_failed', 'body.logs.0.timestamp');
    const fine = await api(gw, 'POST', '/v1.0/event/log:ClientLog', {
      logs: [{ timestamp: '0001-01-01T00:00:00Z' }],
    });
    expect(fine.status).toBe(202);
  });

  it('answers 422 to an event type in the reserved reten. namespace, on EVCI and REST', async () => {
    for (const type of ['reten.test', 'reten.endpoint.disabled', 'Reten.anything']) {
      await expectRefused(
        () => api(gw, 'POST', `/v1.0/event/${type}`, {}),
        422,
        'validation_failed',
        'params.type',
      );
      await expectRefused(
        () => api(gw, 'POST', '/api/v1/events', { event_type: type, data: {} }),
        422,
        'validation_failed',
        'body.event_type',
      );
    }
    expect((await api(gw, 'POST', '/v1.0/event/retention.changed', {})).status).toBe(202);
  });
});
