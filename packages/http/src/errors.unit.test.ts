import express from 'express';
import { RetenError } from '@reten/contracts';
import { createLogger } from '@reten/observability';
import { jsonBody, requireJsonBody } from './body';
import { errorHandler, notFoundHandler } from './errors';
import { listen } from './server';
import type { RunningServer } from './server';

describe('errorHandler and notFoundHandler', () => {
  let server: RunningServer;
  let base: string;
  const logged: string[] = [];

  beforeAll(async () => {
    const log = createLogger({
      service: 'test',
      level: 'error',
      destination: { write: (line: string) => void logged.push(line) },
    });
    const app = express();
    app.get('/reten', () => {
      throw new RetenError('precondition_failed', 'revision is 3', undefined);
    });
    app.get('/details', () => {
      throw new RetenError('validation_failed', 'Invalid query.limit', [
        { path: 'query.limit', message: 'too big' },
      ]);
    });
    app.get('/boom', () => {
      throw new Error('database password is hunter2');
    });
    app.get('/async', async () => {
      await Promise.resolve();
      throw new TypeError('cannot read x of undefined');
    });
    app.post('/json', jsonBody(64), requireJsonBody, (req, res) => {
      res.json({ got: req.body as unknown });
    });
    app.use(notFoundHandler);
    app.use(errorHandler(log));
    server = await listen(app, 0, '127.0.0.1');
    base = `http://127.0.0.1:${server.port}`;
  });

  afterAll(async () => {
    await server?.close(1000);
  });

  async function call(path: string, init?: RequestInit) {
    const res = await fetch(`${base}${path}`, init);
    return { status: res.status, type: res.headers.get('content-type'), body: await res.json() };
  }

  const post = (body: string, type = 'application/json') =>
    call('/json', { method: 'POST', body, headers: { 'content-type': type } });

  it('turns a RetenError into its envelope and status', async () => {
    expect(await call('/reten')).toEqual({
      status: 412,
      type: expect.stringContaining('application/json'),
      body: { error: { code: 'precondition_failed', message: 'revision is 3', status: 412 } },
    });
    expect((await call('/details')).body).toEqual({
      error: {
        code: 'validation_failed',
        message: 'Invalid query.limit',
        status: 422,
        details: [{ path: 'query.limit', message: 'too big' }],
      },
    });
  });

  it.each(['/boom', '/async'])(
    'answers anything else (%s) with 500 internal_error, no message or stack in the body, detail in the log',
    async (path) => {
      logged.length = 0;
      const res = await call(path);
      expect(res).toEqual({
        status: 500,
        type: expect.stringContaining('application/json'),
        body: { error: { code: 'internal_error', message: 'Internal server error', status: 500 } },
      });
      expect(JSON.stringify(res.body)).not.toMatch(/hunter2|undefined|at /);
      expect(logged.join('')).toContain('unhandled request error');
    },
  );

  it('maps body-parser failures to invalid_json, payload_too_large and unsupported_media_type', async () => {
    expect((await post('{"a":')).body).toMatchObject({
      error: { code: 'invalid_json', status: 400 },
    });
    expect((await post('')).body).toMatchObject({ error: { code: 'invalid_json', status: 400 } });
    expect((await post(JSON.stringify({ pad: 'x'.repeat(100) }))).body).toMatchObject({
      error: { code: 'payload_too_large', status: 413 },
    });
    expect((await post('{}', 'application/json; charset=latin-9')).body).toMatchObject({
      error: { code: 'unsupported_media_type', status: 415 },
    });
    expect((await post('{}', 'text/plain')).body).toMatchObject({
      error: { code: 'unsupported_media_type', status: 415 },
    });
  });

  it('parses any JSON value, not only objects', async () => {
    expect((await post('"text"')).body).toEqual({ got: 'text' });
    expect((await post('[1]', 'application/cloudevents+json')).body).toEqual({ got: [1] });
  });

  it('answers an unknown route with 404 route_not_found in the envelope', async () => {
    expect(await call('/nowhere')).toMatchObject({
      status: 404,
      body: {
        error: { code: 'route_not_found', status: 404, message: 'No route for GET /nowhere' },
      },
    });
  });
});
