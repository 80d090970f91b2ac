import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import { errorHandler } from '@reten/http';
import { silentLogger } from '@reten/testing';
import { consoleRouter } from './console-assets';

/** The console router alone in an express app with the gateway's error handler. */
async function serve(dist: string): Promise<{ url: string; close: () => Promise<void> }> {
  const app = express();
  app.use(consoleRouter(dist));
  app.use(errorHandler(silentLogger()));
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('console assets at /console/', () => {
  const dist = mkdtempSync(path.join(tmpdir(), 'reten-console-'));
  let built: Awaited<ReturnType<typeof serve>>;
  let missing: Awaited<ReturnType<typeof serve>>;

  beforeAll(async () => {
    mkdirSync(path.join(dist, 'assets'));
    writeFileSync(path.join(dist, 'index.html'), '<!doctype html><title>console</title>');
    writeFileSync(path.join(dist, 'assets', 'index-abc.js'), 'console.log(1)');
    built = await serve(dist);
    missing = await serve(path.join(dist, 'nowhere'));
  });
  afterAll(async () => {
    await built?.close();
    await missing?.close();
    rmSync(dist, { recursive: true, force: true });
  });

  it('serves the page without credentials, uncached, with a same-origin content security policy', async () => {
    const res = await fetch(`${built.url}/console/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<title>console</title>');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('serves hashed assets as immutable', async () => {
    const res = await fetch(`${built.url}/console/assets/index-abc.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toContain('immutable');
  });

  it('redirects /console to /console/', async () => {
    const res = await fetch(`${built.url}/console`, { redirect: 'manual' });
    expect(res.status).toBe(301);
    expect(res.headers.get('location')).toBe('/console/');
  });

  it('answers 404 with the error envelope, saying how to build it, when the console is not built', async () => {
    const res = await fetch(`${missing.url}/console/`);
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('not_found');
    expect(body.error.message).toContain('pnpm build');
  });
});
