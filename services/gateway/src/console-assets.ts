import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { Router } from 'express';
import { RetenError } from '@reten/contracts';

/** Where `pnpm build` puts the console (packages/console), from this file's dist/ folder. */
export const CONSOLE_DIST = path.resolve(__dirname, '../../../packages/console/dist');

// The console is a static page that talks to the public API with the operator's key: it needs
// scripts and styles from this origin only, and WebSocket access to the stream service (another
// port, so another origin).
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "connect-src 'self' ws: wss:",
  "img-src 'self' data:",
  "style-src 'self'",
  "script-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/**
 * `/console/`: the operator's console, served without credentials (it holds none; the operator
 * signs in with a key that stays in the browser). Hashed assets are cached for good, the page
 * itself never, so a new build shows at the next load.
 */
export function consoleRouter(dist: string = CONSOLE_DIST): Router {
  const router = Router();
  const built = existsSync(path.join(dist, 'index.html'));
  router.use('/console', (req, res, next) => {
    // the page's relative asset URLs need the trailing slash
    if (req.originalUrl.split('?')[0] === '/console') {
      res.redirect(301, '/console/');
      return;
    }
    if (!built) {
      throw new RetenError(
        'not_found',
        'The console is not built: run `pnpm build` (it builds packages/console)',
      );
    }
    res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    next();
  });
  router.use(
    '/console',
    express.static(dist, {
      index: 'index.html',
      redirect: false,
      setHeaders: (res, file) => {
        const immutable = file.includes(`${path.sep}assets${path.sep}`);
        res.setHeader(
          'Cache-Control',
          immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
        );
      },
    }),
  );
  return router;
}
