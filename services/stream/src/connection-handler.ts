import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket, WebSocketServer } from 'ws';
import { RetenError, isRetenError } from '@reten/contracts';
import { bearerSchemeError } from '@reten/auth';
import type { Principal } from '@reten/auth';
import type { Lifecycle, Logger } from '@reten/observability';
import { CLOSE_CODES } from './close-codes';
import type { StreamMetrics } from './metrics';
import { ClientMessageSchema, parseConnectParams, parseLastEventId } from './protocol';
import type { ConnectParams } from './protocol';
import { rawText } from './raw-text';
import { refuseUpgrade } from './upgrade-refusal';
import { StreamClient } from './stream-client';
import type { ClientLimits } from './stream-client';
import type { Subscriptions } from './subscriptions';
import type { RedisFanout } from './redis-fanout';

export const STREAM_PATH = '/events/stream';

export interface ConnectionOptions extends ClientLimits {
  maxConnections: number;
  maxConnectionsPerTenant: number;
}

export interface ConnectionDeps {
  wss: WebSocketServer;
  authenticate: (bearer: string | undefined) => Promise<Principal>;
  mayStream: (principal: Principal) => boolean;
  originAllowed: (origin: string | undefined) => boolean;
  subscriptions: Subscriptions;
  fanout: RedisFanout;
  lifecycle: Lifecycle;
  metrics: StreamMetrics;
  log: Logger;
}

/** Accepts upgrades on `/events/stream` (auth, origin, limits) and runs each connection's protocol. */
export class ConnectionHandler {
  readonly clients = new Set<StreamClient>();
  private readonly perTenant = new Map<string, number>();
  /** Open streams by the API key behind their credentials (the key itself or a token of it). */
  private readonly byKey = new Map<string, Set<StreamClient>>();
  private pending = 0;
  private reauthenticating = false;

  constructor(
    private readonly deps: ConnectionDeps,
    private readonly options: ConnectionOptions,
  ) {}

  /** The `upgrade` listener of the HTTP server. */
  onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined);
    this.accept(req, socket, head).catch((err: unknown) => {
      this.refuse(socket, err, 'internal');
    });
  }

  private refuse(socket: Duplex, err: unknown, reason: string): void {
    this.deps.metrics.upgradesRefused.inc({ reason });
    if (isRetenError(err)) {
      refuseUpgrade(socket, err);
      return;
    }
    this.deps.log.error({ err }, 'stream upgrade failed');
    refuseUpgrade(socket, new RetenError('internal_error', 'Internal server error'));
  }

  private async accept(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const { deps, options } = this;
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== STREAM_PATH) {
      return this.refuse(
        socket,
        new RetenError('route_not_found', `No WebSocket endpoint at ${url.pathname}`),
        'path',
      );
    }
    if (deps.lifecycle.state !== 'running') {
      return this.refuse(
        socket,
        new RetenError(
          'service_unavailable',
          'The stream service is not ready; try another replica',
        ),
        'not_ready',
      );
    }
    if (!deps.originAllowed(req.headers.origin)) {
      return this.refuse(socket, new RetenError('forbidden', 'Origin not allowed'), 'origin');
    }
    let params: ConnectParams;
    try {
      params = parseConnectParams(url.searchParams);
    } catch (err) {
      return this.refuse(socket, err, 'bad_request');
    }
    if (this.clients.size + this.pending >= options.maxConnections) {
      return this.refuse(
        socket,
        new RetenError(
          'service_unavailable',
          'This replica is at its connection limit; try another',
        ),
        'process_limit',
      );
    }
    this.pending += 1;
    let principal: Principal;
    try {
      const badScheme = bearerSchemeError(req.headers.authorization);
      if (badScheme) throw badScheme;
      principal = await deps.authenticate(req.headers.authorization ?? params.token);
    } catch (err) {
      return this.refuse(socket, err, 'unauthorized');
    } finally {
      this.pending -= 1;
    }
    if (!deps.mayStream(principal)) {
      return this.refuse(
        socket,
        new RetenError('forbidden', 'The credentials lack the stream:read scope'),
        'forbidden',
      );
    }
    const tenantCount = this.perTenant.get(principal.tenantId) ?? 0;
    if (tenantCount >= options.maxConnectionsPerTenant) {
      return this.refuse(
        socket,
        new RetenError(
          'rate_limit_exceeded',
          `The tenant has ${tenantCount} open streams on this replica, the limit`,
        ),
        'tenant_limit',
      );
    }
    if (socket.destroyed) return;
    const credential = req.headers.authorization ?? params.token;
    deps.wss.handleUpgrade(req, socket, head, (ws) =>
      this.onConnection(ws, principal, params, credential),
    );
  }

  private onConnection(
    ws: WebSocket,
    principal: Principal,
    params: ConnectParams,
    credential: string | undefined,
  ): void {
    const { deps, options } = this;
    const client = new StreamClient(ws, principal.tenantId, credential, options, deps.metrics);
    this.clients.add(client);
    this.perTenant.set(client.tenantId, (this.perTenant.get(client.tenantId) ?? 0) + 1);
    const ofKey = this.byKey.get(principal.keyId) ?? new Set<StreamClient>();
    ofKey.add(client);
    this.byKey.set(principal.keyId, ofKey);
    deps.metrics.connections.set(this.clients.size);
    ws.on('pong', () => {
      client.alive = true;
    });
    ws.on('message', (data, isBinary) => this.onMessage(client, data, isBinary));
    ws.on('error', (err) => deps.log.debug({ err: err.message }, 'stream socket error'));
    ws.once('close', () => {
      client.markClosed();
      this.clients.delete(client);
      deps.fanout.leave(client);
      const left = (this.perTenant.get(client.tenantId) ?? 1) - 1;
      if (left > 0) this.perTenant.set(client.tenantId, left);
      else this.perTenant.delete(client.tenantId);
      ofKey.delete(client);
      if (ofKey.size === 0 && this.byKey.get(principal.keyId) === ofKey) {
        this.byKey.delete(principal.keyId);
      }
      deps.metrics.connections.set(this.clients.size);
    });
    const subscribeNow = params.types !== undefined || params.lastEventId !== undefined;
    client.sendControl({
      type: 'welcome',
      tenant_id: principal.tenantId,
      subscribed: subscribeNow,
      ping_interval_ms: options.pingIntervalMs,
    });
    if (subscribeNow) this.startSubscription(client, params.types ?? ['*'], params.lastEventId);
  }

  private startSubscription(
    client: StreamClient,
    types: string[],
    lastEventId: ConnectParams['lastEventId'],
  ): void {
    this.deps.subscriptions
      .subscribe(client, types, lastEventId)
      .catch((err: unknown) => this.deps.subscriptions.failed(client, err));
  }

  private onMessage(client: StreamClient, data: RawData, isBinary: boolean): void {
    try {
      if (isBinary) throw new RetenError('bad_request', 'Send text frames with JSON messages');
      let json: unknown;
      try {
        json = JSON.parse(rawText(data));
      } catch {
        throw new RetenError('invalid_json', 'The message is not valid JSON');
      }
      const parsed = ClientMessageSchema.safeParse(json);
      if (!parsed.success) {
        throw new RetenError(
          'bad_request',
          'Unknown or invalid message: expected {"type":"subscribe","types":[…],"last_event_id"?} or {"type":"ping"}',
          parsed.error.issues
            .slice(0, 5)
            .map((i) => ({ path: `message.${i.path.join('.')}`, message: i.message })),
        );
      }
      const message = parsed.data;
      if (message.type === 'ping') {
        client.sendControl({ type: 'pong' });
        return;
      }
      const lastEventId =
        message.last_event_id === undefined
          ? undefined
          : parseLastEventId(message.last_event_id, 'message.last_event_id');
      if (!client.subscribedOnce) {
        this.startSubscription(client, message.types ?? ['*'], lastEventId);
        return;
      }
      if (lastEventId) {
        throw new RetenError(
          'bad_request',
          'last_event_id is only accepted in the first subscription; reconnect to resume',
        );
      }
      this.deps.subscriptions.changeFilter(client, message.types ?? ['*']);
    } catch (err) {
      this.deps.metrics.clientErrors.inc();
      if (isRetenError(err)) client.sendError(err);
      else {
        this.deps.log.error({ err }, 'stream message handling failed');
        client.sendError(new RetenError('internal_error', 'Internal server error'));
      }
    }
  }

  /** Pings every client; one that did not answer the previous ping is dropped. */
  heartbeat(): void {
    for (const client of this.clients) {
      if (!client.alive) {
        client.ws.terminate();
        continue;
      }
      client.alive = false;
      client.ws.ping();
    }
  }

  /**
   * A key was revoked (heard by PostgreSQL NOTIFY, from whichever replica revoked it): every
   * stream opened with it, or with a token issued for it, is closed with 4401 now.
   */
  revoked(keyId: string): void {
    const clients = this.byKey.get(keyId);
    if (!clients) return;
    for (const client of [...clients]) this.closeUnauthorized(client, 'The API key was revoked');
  }

  private closeUnauthorized(client: StreamClient, message: string): void {
    client.sendError(new RetenError('unauthorized', message));
    client.close(CLOSE_CODES.credentialsInvalid, 'credentials revoked or expired');
  }

  /**
   * Re-checks every open stream's credentials (cached key lookups): an expired token, a lost
   * scope, or a revocation missed while the NOTIFY listener was down closes the stream with
   * 4401. An unreachable database keeps streams open (logged): it is not the client's fault.
   */
  async reauthenticate(): Promise<void> {
    if (this.reauthenticating) return;
    this.reauthenticating = true;
    try {
      for (const client of [...this.clients]) {
        if (client.state === 'closed') continue;
        try {
          const principal = await this.deps.authenticate(client.credential);
          if (principal.tenantId !== client.tenantId || !this.deps.mayStream(principal)) {
            throw new RetenError('forbidden', 'The credentials no longer grant stream:read');
          }
        } catch (err) {
          if (isRetenError(err) && (err.code === 'unauthorized' || err.code === 'forbidden')) {
            client.sendError(err);
            client.close(CLOSE_CODES.credentialsInvalid, 'credentials revoked or expired');
          } else {
            this.deps.log.warn({ err }, 'stream credential re-check failed');
          }
        }
      }
    } finally {
      this.reauthenticating = false;
    }
  }

  /** Closes every connection with 1012 and waits (at most `deadlineMs`) for them to go. */
  async closeAll(code: number, reason: string, deadlineMs: number): Promise<void> {
    const closing = [...this.clients].map(
      (client) =>
        new Promise<void>((resolve) => {
          if (client.ws.readyState === client.ws.CLOSED) return resolve();
          client.ws.once('close', () => resolve());
          client.close(code, reason);
        }),
    );
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(closing),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, deadlineMs);
      }),
    ]);
    clearTimeout(timer);
    for (const client of this.clients) client.ws.terminate();
  }
}
