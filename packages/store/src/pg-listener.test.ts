import { Pool } from 'pg';
import { TcpProxy, createTestSchema, eventually, silentLogger } from '@reten/testing';
import type { TestSchema } from '@reten/testing';
import { PgListener } from './pg-listener';
import type { PgListenerOptions } from './pg-listener';

let schema: TestSchema;
let proxy: TcpProxy;

beforeAll(async () => {
  schema = await createTestSchema('pg listener', { migrate: false });
  const url = new URL(schema.databaseUrl);
  proxy = await TcpProxy.start(url.hostname, Number(url.port || 5432));
});

afterAll(async () => {
  await proxy?.close();
  await schema?.drop();
});

afterEach(() => {
  proxy.restore();
  proxy.resume();
});

const notify = (channel: string, payload: string) =>
  schema.pool.query('SELECT pg_notify($1, $2)', [channel, payload]);

/** A listener through the proxy on two channels, recording what it hears. */
function listenerFor(options: Partial<PgListenerOptions> = {}) {
  const a = `${schema.schema}_a`;
  const b = `${schema.schema}_b`;
  const heard: string[] = [];
  const events: string[] = [];
  const listener = new PgListener({
    name: 'test',
    connection: {
      clientConfig: { connectionString: proxy.proxiedUrl(schema.databaseUrl) },
    },
    channels: { [a]: (p) => heard.push(`a:${p}`), [b]: (p) => heard.push(`b:${p}`) },
    onListening: () => events.push('listening'),
    onLost: () => events.push('lost'),
    reconnectDelayMs: 50,
    maxReconnectDelayMs: 200,
    keepaliveIntervalMs: 100,
    timeoutMs: 500,
    log: silentLogger(),
    ...options,
  });
  return { listener, heard, events, a, b };
}

describe('PgListener', () => {
  it('calls the callback of each channel with its payload', async () => {
    const { listener, heard, events, a, b } = listenerFor();
    await listener.start();
    try {
      expect(listener.ready).toBe(true);
      expect(events).toEqual(['listening']);
      await notify(a, 'one');
      await notify(b, '');
      await eventually(() => expect(heard).toEqual(['a:one', 'b:']), { timeoutMs: 2000 });
    } finally {
      await listener.stop();
    }
    expect(listener.ready).toBe(false);
  });

  it('reconnects and LISTENs again after its connection is cut', async () => {
    const { listener, heard, events, a } = listenerFor();
    await listener.start();
    try {
      proxy.cut();
      await eventually(() => expect(listener.ready).toBe(false), { timeoutMs: 2000 });
      expect(events).toEqual(['listening', 'lost']);
      proxy.restore();
      await eventually(() => expect(listener.ready).toBe(true), { timeoutMs: 5000 });
      expect(events).toEqual(['listening', 'lost', 'listening']);
      await notify(a, 'after');
      await eventually(() => expect(heard).toEqual(['a:after']), { timeoutMs: 2000 });
    } finally {
      await listener.stop();
    }
  });

  it('notices a stalled connection by its keepalive and comes back when the server answers', async () => {
    const { listener, heard, a } = listenerFor();
    await listener.start();
    try {
      proxy.stall();
      await eventually(() => expect(listener.ready).toBe(false), { timeoutMs: 3000 });
      proxy.resume();
      await eventually(() => expect(listener.ready).toBe(true), { timeoutMs: 5000 });
      await notify(a, 'resumed');
      await eventually(() => expect(heard).toContain('a:resumed'), { timeoutMs: 2000 });
    } finally {
      await listener.stop();
    }
  });

  it('starts while the server is unreachable and listens once it is back', async () => {
    proxy.cut();
    const { listener, heard, a } = listenerFor();
    await listener.start();
    try {
      expect(listener.ready).toBe(false);
      proxy.restore();
      await eventually(() => expect(listener.ready).toBe(true), { timeoutMs: 5000 });
      await notify(a, 'late');
      await eventually(() => expect(heard).toEqual(['a:late']), { timeoutMs: 2000 });
    } finally {
      await listener.stop();
    }
  });

  it('holds its connection out of a pool when given one, and gives it back on stop', async () => {
    const pool = new Pool({ connectionString: schema.databaseUrl, max: 2 });
    const { listener, heard, a } = listenerFor({ connection: { pool } });
    try {
      await listener.start();
      expect(pool.totalCount).toBe(1);
      await notify(a, 'pooled');
      await eventually(() => expect(heard).toEqual(['a:pooled']), { timeoutMs: 2000 });
      await listener.stop();
      expect(pool.totalCount).toBe(0);
    } finally {
      await listener.stop();
      await pool.end();
    }
  });
});
