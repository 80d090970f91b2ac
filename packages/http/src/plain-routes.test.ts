import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import { RetenError } from '@reten/contracts';
import { errorHandler } from './errors';
import { withPlainRoutes } from './plain-routes';
import { requestMetrics } from './request-metrics';
import { Registry } from '@reten/observability';
import type { Logger } from '@reten/observability';

const silent = { error: () => undefined } as unknown as Logger;

describe('withPlainRoutes', () => {
  let server: Server;
  let base: string;
  const seen: string[] = [];
  const registry = new Registry();

  beforeAll(async () => {
    const app = express();
    app.disable('x-powered-by');
    const metrics = requestMetrics(registry);
    app.use(metrics);
    app.use((req, res) => {
      seen.push(`app ${req.method} ${req.url}`);
      res.status(200).json({ by: 'app' });
    });
    const onError: ErrorRequestHandler = errorHandler(silent);
    const plainOnly: RequestHandler = (req, _res, next) => {
      // express's own request API is not there: the chain runs on node's request
      seen.push(`plain ${typeof (req as Partial<Request>).get} ${String(req.params.name)}`);
      next();
    };
    const answer: RequestHandler = async (req, res) => {
      await Promise.resolve();
      if (req.params.name === 'throws') throw new RetenError('forbidden', 'thrown in a handler');
      if (req.params.name === 'passes') throw new Error('an unexpected failure');
      res.statusCode = 202;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ by: 'plain', name: req.params.name }));
    };
    const refuse: RequestHandler = (req, _res, next) => {
      if (req.params.name === 'refused') next(new RetenError('payload_too_large', 'too large'));
      else next();
    };
    const listener = withPlainRoutes(
      app,
      [
        {
          method: 'POST',
          pattern: /^\/things\/(?<name>[a-z]+)(?:\?|$)/,
          routePath: '/things/:name',
          chain: [metrics, plainOnly, refuse, answer],
        },
      ],
      onError,
    );
    server = createServer(listener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(() => {
    seen.length = 0;
  });

  it('answers a matching request on the plain request and response, without the app', async () => {
    const res = await fetch(`${base}/things/abc?x=1`, { method: 'POST' });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ by: 'plain', name: 'abc' });
    expect(seen).toEqual(['plain undefined abc']);
  });

  it('hands other methods and paths to the app', async () => {
    expect((await fetch(`${base}/things/abc`)).status).toBe(200);
    expect((await fetch(`${base}/things/ABC`, { method: 'POST' })).status).toBe(200);
    expect((await fetch(`${base}/things/abc/`, { method: 'POST' })).status).toBe(200);
    expect(seen).toEqual(['app GET /things/abc', 'app POST /things/ABC', 'app POST /things/abc/']);
  });

  it('sends next(err), a thrown error and a rejected handler to the error handler, in the envelope', async () => {
    const refused = await fetch(`${base}/things/refused`, { method: 'POST' });
    expect(refused.status).toBe(413);
    expect(await refused.json()).toEqual({
      error: { code: 'payload_too_large', message: 'too large', status: 413 },
    });
    const thrown = await fetch(`${base}/things/throws`, { method: 'POST' });
    expect(thrown.status).toBe(403);
    expect(((await thrown.json()) as { error: { code: string } }).error.code).toBe('forbidden');
    const failed = await fetch(`${base}/things/passes`, { method: 'POST' });
    expect(failed.status).toBe(500);
    expect(((await failed.json()) as { error: { code: string } }).error.code).toBe(
      'internal_error',
    );
  });

  it('labels its requests with the route path, as express would', async () => {
    await fetch(`${base}/things/abc`, { method: 'POST' });
    const text = await registry.metrics();
    expect(text).toMatch(
      /http_request_duration_seconds_count\{[^}]*route="\/things\/:name"[^}]*\} [1-9]/,
    );
  });
});
