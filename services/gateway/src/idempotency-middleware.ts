import type { Request, RequestHandler, Response } from 'express';
import { errorHandler } from '@reten/http';
import type { Logger } from '@reten/observability';
import type { IdempotencyStore } from '@reten/store';
import type { ApiRoute } from './api-route';
import { pathPattern } from './api-route';
import {
  claimIdempotencyKey,
  idempotencyKeyOf,
  requestFingerprint,
} from './ingest/idempotency-key';
import { tenantOf } from './tenant';
import { databaseUnavailableError } from '@reten/store';

/**
 * `Idempotency-Key` for every route the route table marks `middleware` (the IETF draft): the
 * same key and body answers the first 2xx answer again without running the route; the same
 * key with another body is 422 `idempotency_key_reused`; the same key while the first request
 * runs is 409 `idempotency_key_in_progress`. The answer is recorded before it is sent, so a
 * client that saw it can rely on the replay; an answer that is not 2xx frees the key for a
 * retry. (Ingest claims its key inside the event's own transaction instead.)
 */
export function idempotencyMiddleware(
  routes: readonly ApiRoute[],
  store: IdempotencyStore,
  log: Logger,
): RequestHandler {
  const covered = routes
    .filter((r) => r.idempotency === 'middleware')
    .map((r) => ({ method: r.method.toUpperCase(), path: pathPattern(r.path) }));
  const onError = errorHandler(log, { dependencyError: databaseUnavailableError });

  async function run(req: Request, res: Response): Promise<boolean> {
    const key = idempotencyKeyOf(req);
    if (key === undefined) return true;
    const tenantId = tenantOf(req);
    const claim = await claimIdempotencyKey(store, tenantId, key, requestFingerprint(req));
    if (claim.kind === 'replay') {
      res.status(claim.status).type('application/json').send(claim.bodyJson);
      return false;
    }
    let settled = false;
    const release = () => store.release(tenantId, key).catch(() => undefined);
    const send = res.send.bind(res);
    res.send = ((body?: unknown) => {
      if (settled) return send(body);
      settled = true;
      res.send = send;
      const status = res.statusCode;
      if (status >= 200 && status < 300 && typeof body === 'string') {
        store.complete(tenantId, key, status, body).then(
          () => send(body),
          async (err: unknown) => {
            await release();
            onError(err, req, res, () => undefined);
          },
        );
      } else {
        void release().then(() => send(body));
      }
      return res;
    }) as Response['send'];
    // a client gone before any answer: free the key for its retry
    res.on('close', () => {
      if (settled) return;
      settled = true;
      void release();
    });
    return true;
  }

  return (req, res, next) => {
    if (!covered.some((r) => r.method === req.method && r.path.test(req.path))) {
      next();
      return;
    }
    run(req, res).then(
      (proceed) => {
        if (proceed) next();
      },
      (err: unknown) => next(err),
    );
  };
}
