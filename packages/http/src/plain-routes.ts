import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { ErrorRequestHandler, Express, Request, RequestHandler, Response } from 'express';
import parseurl from 'parseurl';

/**
 * The path of a request as express's `req.baseUrl + req.path` reads it (the pathname of the
 * original request target), on a plain node:http request too.
 */
export function requestPathOf(req: IncomingMessage & { originalUrl?: string }): string {
  return parseurl.original(req)?.pathname ?? '/';
}

/**
 * A route answered on node:http's own request and response, ahead of the express app, for a
 * hot path: express gives every request its own prototypes (`Object.setPrototypeOf` on the
 * request and the response, which moves both off V8's fast paths) and walks its router, which
 * cost several times a plain handler's CPU per request (see bench/README.md, ingest).
 *
 * Its middleware and handler are ordinary express handlers that use node's API only
 * (`req.headers`, `res.setHeader`, `res.end`, …) plus what is set here as express would set it:
 * `req.params` (the pattern's named groups), `req.route.path`, `req.baseUrl` and `req.res`.
 * An error goes to the app's error handler on an express request and response (their
 * prototypes are set then), so every error answer is the one the express route gives.
 */
export interface PlainRoute {
  method: string;
  /**
   * Matches the request target as sent (`req.url`); its named groups become `req.params`. Only
   * targets whose params need no decoding should match: anything else (another spelling of
   * the path, a percent-encoded param) is left to the app, which serves the same route.
   */
  pattern: RegExp;
  /** The route's path in express's syntax, which request metrics label requests with. */
  routePath: string;
  /** Middleware and handler, in order, as `app.post(path, ...chain)` would run them. */
  chain: RequestHandler[];
}

type PlainRequest = IncomingMessage & {
  params?: Record<string, string>;
  route?: { path: string };
  baseUrl?: string;
  res?: ServerResponse;
};

/** Turns a plain request and response into express's own (the error path only). */
function asExpress(app: Express, req: IncomingMessage, res: ServerResponse): void {
  Object.setPrototypeOf(req, app.request);
  Object.setPrototypeOf(res, app.response);
  const r = req as Request;
  const s = res as Response;
  r.res = s;
  s.req = r;
  s.locals ??= Object.create(null) as Response['locals'];
}

/**
 * A request listener that answers `routes` itself and hands every other request to `app`.
 * `onError` is the app's error handler (the one `app.use` ends with).
 */
export function withPlainRoutes(
  app: Express,
  routes: PlainRoute[],
  onError: ErrorRequestHandler,
): RequestListener {
  const run = (
    route: PlainRoute,
    match: RegExpExecArray,
    req: PlainRequest,
    res: ServerResponse,
  ) => {
    req.params = { ...match.groups };
    req.route = { path: route.routePath };
    req.baseUrl = '';
    req.res = res;
    let index = 0;
    const fail = (err: unknown) => {
      asExpress(app, req, res);
      onError(err, req as Request, res as Response, () => undefined);
    };
    const next = (err?: unknown): void => {
      if (err !== undefined && err !== null) {
        fail(err);
        return;
      }
      const handler = route.chain[index++];
      if (!handler) {
        fail(new Error(`${route.method} ${route.routePath} ended without an answer`));
        return;
      }
      try {
        // as express 5 does: a rejected promise is the handler's error
        const out: unknown = handler(req as Request, res as Response, next);
        if (out instanceof Promise) out.catch(next);
      } catch (thrown) {
        next(thrown);
      }
    };
    next();
  };
  return (req: IncomingMessage, res: ServerResponse) => {
    for (const route of routes) {
      if (req.method !== route.method) continue;
      const match = route.pattern.exec(req.url ?? '');
      if (match) {
        run(route, match, req, res);
        return;
      }
    }
    app(req, res);
  };
}
