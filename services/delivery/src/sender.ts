import { Pool } from 'undici';
import ipaddr from 'ipaddr.js';
import { guardedLookup, isPublicAddress } from '@reten/webhooks';
import { ExchangeHandler } from './exchange-handler';
import type { Exchange } from './exchange-handler';
import { CONNECT_ERROR_CODES, parseRetryAfter } from './retry-policy';
import type { AttemptResult } from './retry-policy';

const POOL_IDLE_MS = 5 * 60_000;
/** Parsed endpoint URLs kept (a URL is parsed and checked once, not at every attempt). */
const TARGETS_MAX = 10_000;

/** Where an endpoint URL sends to, or why it cannot be sent to. */
type Target = { origin: string; path: string } | { refused: string };

export interface SenderOptions {
  allowPrivate: boolean;
  timeoutMs: number;
  connectTimeoutMs: number;
  /** Connections per endpoint origin (= requests in flight per endpoint). */
  connectionsPerOrigin: number;
}

function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, i = 0; e && i < 5; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function describe(err: unknown): string {
  const code = errorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  return code ? `${code}: ${message}` : message;
}

/**
 * POSTs webhook requests with undici: one connection pool per endpoint and origin (reuse, and a
 * bound on requests in flight per endpoint), the SSRF guard in the pools' DNS lookup, no
 * redirects followed, one timeout for the whole attempt.
 */
export class WebhookSender {
  private readonly pools = new Map<string, { pool: Pool; usedAt: number }>();
  private readonly targets = new Map<string, Target>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly options: SenderOptions) {
    this.sweeper = setInterval(() => this.closeIdle(), POOL_IDLE_MS);
    this.sweeper.unref();
  }

  /** Closes pools unused for a while (deleted endpoints, changed URLs). */
  private closeIdle(): void {
    const now = Date.now();
    for (const [key, entry] of this.pools) {
      if (now - entry.usedAt > POOL_IDLE_MS) {
        this.pools.delete(key);
        void entry.pool.close().catch(() => undefined);
      }
    }
  }

  /**
   * The pool of one endpoint at one origin: endpoints never share connections, so a hanging
   * endpoint cannot hold the connections of another one on the same host.
   */
  private pool(endpointId: string, origin: string): Pool {
    const key = `${endpointId} ${origin}`;
    const entry = this.pools.get(key);
    if (entry) {
      entry.usedAt = Date.now();
      return entry.pool;
    }
    const pool = new Pool(origin, {
      connections: this.options.connectionsPerOrigin,
      pipelining: 1,
      keepAliveTimeout: 4_000,
      // backstops only: the attempt's own timer is exact, undici's coarse timers may fire early
      headersTimeout: this.options.timeoutMs + 1_000,
      bodyTimeout: this.options.timeoutMs + 1_000,
      connect: {
        timeout: this.options.connectTimeoutMs,
        lookup: guardedLookup(this.options.allowPrivate),
      },
    });
    this.pools.set(key, { pool, usedAt: Date.now() });
    return pool;
  }

  /**
   * The origin and path of an endpoint URL, or why it is refused: an invalid URL, or an IP
   * literal that is not public (undici calls no lookup for those, so the guard is here). The
   * answer depends on the URL string only, so it is kept.
   */
  private target(url: string): Target {
    let target = this.targets.get(url);
    if (target !== undefined) return target;
    try {
      const parsed = new URL(url);
      const host = parsed.hostname.replace(/^\[|\]$/g, '');
      target =
        !this.options.allowPrivate && ipaddr.isValid(host) && !isPublicAddress(host)
          ? { refused: `target refused: ${host} is not a public address` }
          : { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
    } catch {
      target = { refused: 'invalid URL' };
    }
    if (this.targets.size >= TARGETS_MAX) this.targets.clear();
    this.targets.set(url, target);
    return target;
  }

  /** One attempt; never throws: every failure is described in the result. */
  async send(
    endpointId: string,
    url: string,
    headers: Record<string, string>,
    body: string,
  ): Promise<AttemptResult> {
    const startedAt = new Date();
    const t0 = performance.now();
    const result = (partial: Partial<AttemptResult>): AttemptResult => ({
      startedAt,
      latencyMs: Math.round(performance.now() - t0),
      succeeded: false,
      statusCode: null,
      phase: null,
      error: null,
      responseExcerpt: null,
      retryAfterMs: null,
      ...partial,
    });
    const target = this.target(url);
    if ('refused' in target) return result({ phase: 'connect', error: target.refused });
    // one timeout for the whole attempt, cleared when it ends (a lingering timer per request
    // would pile up for the whole timeout at a high rate)
    const exchange = await new Promise<Exchange>((resolve) => {
      // settles from dispatch() at the earliest, after the timer below is set
      const handler = new ExchangeHandler((e) => {
        clearTimeout(timer);
        resolve(e);
      });
      const timer = setTimeout(
        () =>
          handler.abort(
            new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
          ),
        this.options.timeoutMs,
      );
      this.pool(endpointId, target.origin).dispatch(
        { origin: target.origin, path: target.path, method: 'POST', headers, body },
        handler,
      );
    });
    if (!exchange.ok) {
      const code = errorCode(exchange.err);
      const phase =
        exchange.statusCode !== null
          ? 'body'
          : code !== undefined &&
              (CONNECT_ERROR_CODES.includes(code) || /^ERR_(TLS|SSL)_/.test(code))
            ? 'connect'
            : 'headers';
      return result({ statusCode: exchange.statusCode, phase, error: describe(exchange.err) });
    }
    const { statusCode } = exchange;
    const ok = statusCode >= 200 && statusCode < 300;
    return result({
      succeeded: ok,
      statusCode,
      phase: ok ? null : 'status',
      error: ok
        ? null
        : statusCode >= 300 && statusCode < 400
          ? `HTTP ${statusCode} redirect (not followed)`
          : `HTTP ${statusCode}`,
      responseExcerpt: exchange.excerpt,
      retryAfterMs: parseRetryAfter(exchange.retryAfter),
    });
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.pool.destroy()));
  }
}
