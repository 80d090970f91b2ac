import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { STACK_TOPOLOGIES } from '@reten/contracts';
import type { Topology } from '@reten/contracts';
import { testServers, uniqueName } from '@reten/testing';
import { prettierFormat } from './prettier-format';

interface Definitions {
  users: { name: string; password_hash: string; hashing_algorithm: string; tags: string[] }[];
  vhosts: { name: string }[];
  permissions: { user: string; vhost: string; configure: string; write: string; read: string }[];
  exchanges: { name: string; vhost: string }[];
  queues: { name: string; vhost: string; arguments: Record<string, unknown> }[];
  bindings: { source: string; destination: string; routing_key: string; vhost: string }[];
}

interface Generator {
  definitionsFor(topologies: Topology[]): Definitions;
  render(topologies: Topology[]): string;
  OUT: string;
}

const generator = createRequire(__filename)('../../scripts/rabbitmq-definitions.js') as Generator;
const FILE = path.join(__dirname, '../../infra/rabbitmq/definitions.json');

/** Management API call as guest (the plugin is enabled by scripts/ensure-servers.sh). */
async function management(method: string, apiPath: string, body?: unknown, user = 'guest:guest') {
  const { rabbitManagementUrl } = await testServers();
  const base = new URL(rabbitManagementUrl);
  return fetch(new URL(apiPath, `${base.protocol}//${base.host}`), {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(user).toString('base64')}`,
      'content-type': 'application/json',
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
}

describe('infra/rabbitmq/definitions.json', () => {
  it('is exactly what scripts/rabbitmq-definitions.js renders from STACK_TOPOLOGIES (run it with --write when this fails)', () => {
    expect(generator.OUT).toBe(FILE);
    const expected = prettierFormat(FILE, generator.render(STACK_TOPOLOGIES));
    expect(readFileSync(FILE, 'utf8')).toBe(expected);
  });

  it('declares every exchange, queue and binding of STACK_TOPOLOGIES in the vhost /', () => {
    const defs = JSON.parse(readFileSync(FILE, 'utf8')) as Definitions;
    for (const topology of STACK_TOPOLOGIES) {
      for (const e of topology.exchanges) {
        expect(defs.exchanges).toContainEqual(
          expect.objectContaining({ name: e.name, vhost: '/' }),
        );
      }
      for (const q of topology.queues) {
        expect(defs.queues).toContainEqual(
          expect.objectContaining({ name: q.name, vhost: '/', arguments: q.arguments }),
        );
      }
      for (const b of topology.bindings) {
        expect(defs.bindings).toContainEqual(
          expect.objectContaining({
            source: b.exchange,
            destination: b.queue,
            routing_key: b.routingKey,
          }),
        );
      }
    }
  });

  it('includes the vhost /, the guest user tagged administrator and its full permissions, which an import would not create', () => {
    const defs = JSON.parse(readFileSync(FILE, 'utf8')) as Definitions;
    expect(defs.vhosts).toEqual([{ name: '/' }]);
    expect(defs.users).toEqual([
      expect.objectContaining({ name: 'guest', tags: ['administrator'] }),
    ]);
    expect(defs.permissions).toEqual([
      { user: 'guest', vhost: '/', configure: '.*', write: '.*', read: '.*' },
    ]);
  });

  it('refuses two topologies that declare one queue with different arguments', () => {
    const queue = (limit: number): Topology => ({
      exchanges: [],
      queues: [{ name: 'q', durable: true, arguments: { 'x-delivery-limit': limit } }],
      bindings: [],
    });
    expect(() => generator.definitionsFor([queue(1), queue(1)])).not.toThrow();
    expect(() => generator.definitionsFor([queue(1), queue(2)])).toThrow(/queue q/);
  });

  it('stores a guest password hash that a real RabbitMQ accepts for the password guest', async () => {
    const defs = JSON.parse(readFileSync(FILE, 'utf8')) as Definitions;
    const guest = defs.users[0]!;
    const user = uniqueName('defs-hash');
    const put = await management('PUT', `/api/users/${user}`, {
      password_hash: guest.password_hash,
      hashing_algorithm: guest.hashing_algorithm,
      tags: 'management',
    });
    expect(put.status).toBe(201);
    try {
      expect((await management('GET', '/api/whoami', undefined, `${user}:guest`)).status).toBe(200);
      expect((await management('GET', '/api/whoami', undefined, `${user}:other`)).status).toBe(401);
    } finally {
      await management('DELETE', `/api/users/${user}`);
    }
  });

  it('imports into a real RabbitMQ: every queue, exchange and binding is accepted as declared', async () => {
    const defs = JSON.parse(readFileSync(FILE, 'utf8')) as Definitions;
    const vhost = uniqueName('defs-import');
    const enc = encodeURIComponent(vhost);
    expect((await management('PUT', `/api/vhosts/${enc}`, {})).status).toBe(201);
    try {
      const scoped = {
        exchanges: defs.exchanges.map((e) => ({ ...e, vhost })),
        queues: defs.queues.map((q) => ({ ...q, vhost })),
        bindings: defs.bindings.map((b) => ({ ...b, vhost })),
      };
      const imported = await management('POST', `/api/definitions/${enc}`, scoped);
      expect(imported.status).toBeLessThan(300);
      const queues = (await (await management('GET', `/api/queues/${enc}`)).json()) as {
        name: string;
        arguments: Record<string, unknown>;
      }[];
      expect(queues.map((q) => q.name).sort()).toEqual(defs.queues.map((q) => q.name).sort());
      for (const q of defs.queues) {
        expect(queues.find((found) => found.name === q.name)?.arguments).toEqual(q.arguments);
      }
      const bindings = (await (await management('GET', `/api/bindings/${enc}`)).json()) as {
        source: string;
        destination: string;
        routing_key: string;
      }[];
      for (const b of defs.bindings) {
        expect(bindings).toContainEqual(
          expect.objectContaining({
            source: b.source,
            destination: b.destination,
            routing_key: b.routing_key,
          }),
        );
      }
    } finally {
      await management('DELETE', `/api/vhosts/${enc}`);
    }
  });
});
