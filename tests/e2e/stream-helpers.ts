import { api, eventIdOf } from '../../services/gateway/src/test-api';
import type { TestGateway } from '../../services/gateway/src/test-fixture';
import { TestClient } from '../../services/stream/src/test-client';

/** Ingests one event over EVCI with `key`; resolves with its event id once 202 came back. */
export async function ingest(
  gw: TestGateway,
  key: string,
  type: string,
  data: unknown = { n: 1 },
): Promise<string> {
  return eventIdOf(await api(gw, 'POST', `/v1.0/event/${type}`, data, { auth: key }));
}

/** Ingests `count` events one after the other (so their order is their commit order). */
export async function ingestMany(
  gw: TestGateway,
  key: string,
  type: string,
  count: number,
  dataOf: (i: number) => unknown = (i) => ({ i }),
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) ids.push(await ingest(gw, key, type, dataOf(i)));
  return ids;
}

/**
 * A client that does what the README tells clients to do: on any close, reconnect (to the
 * next URL, as a load balancer would) with `last_event_id` of the last event it received.
 */
export class ResumingClient {
  readonly received: string[] = [];
  readonly closeCodes: number[] = [];
  private current: TestClient | undefined;
  private stopped = false;
  private attempt = 0;

  constructor(
    private readonly urls: string[],
    private readonly token: string,
    private readonly types = '*',
  ) {
    this.connect();
  }

  private connect(): void {
    if (this.stopped) return;
    const url = this.urls[this.attempt % this.urls.length] ?? '';
    this.attempt += 1;
    const last = this.received.at(-1);
    const query = `types=${this.types}${last ? `&last_event_id=${last}` : ''}`;
    const client = new TestClient(`${url}?${query}`, { token: this.token });
    this.current = client;
    client.ws.on('message', () => {
      const frame = client.frames.at(-1);
      if (frame && typeof frame.event_id === 'string') {
        this.received.push(`${frame.event_id}:${String(frame.revision)}`);
      }
    });
    client.ws.on('close', (code) => {
      this.closeCodes.push(code);
      if (!this.stopped) setTimeout(() => this.connect(), 50);
    });
  }

  /** Event ids received, in order (revision dropped). */
  eventIds(): string[] {
    return this.received.map((r) => r.split(':')[0] ?? '');
  }

  /** Whether the current connection got its `subscribed` frame. */
  subscribed(): boolean {
    return (this.current?.control('subscribed').length ?? 0) > 0;
  }

  stop(): void {
    this.stopped = true;
    this.current?.close();
  }
}

/** The value of an unlabelled Prometheus series on a service's `/metrics` (0 when absent). */
export async function metricValue(httpUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line ? Number(line.split(' ').at(-1)) : 0;
}
