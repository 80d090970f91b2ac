import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { testServers } from './servers';
import { uniqueName } from './names';

const run = promisify(execFile);

export interface TestVhost {
  vhost: string;
  /** AMQP URL of the vhost, with the guest user. */
  url: string;
  drop(): Promise<void>;
}

async function managementRequest(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Response> {
  const u = new URL(base);
  const auth = Buffer.from(
    `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`,
  ).toString('base64');
  u.username = '';
  u.password = '';
  return fetch(new URL(path, u), {
    method,
    headers: { authorization: `Basic ${auth}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
}

async function managementAnswers(base: string): Promise<boolean> {
  try {
    const res = await managementRequest(base, 'GET', '/api/overview');
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * A fresh RabbitMQ vhost for one test, through the management API when it answers, else
 * `rabbitmqctl` (the local broker without the management plugin). `drop()` deletes it.
 */
export async function createTestVhost(title: string): Promise<TestVhost> {
  const servers = await testServers();
  const vhost = uniqueName(title);
  const base = new URL(servers.rabbitUrl);
  const user = decodeURIComponent(base.username || 'guest');
  const useApi = await managementAnswers(servers.rabbitManagementUrl);
  const enc = encodeURIComponent(vhost);
  if (useApi) {
    const created = await managementRequest(
      servers.rabbitManagementUrl,
      'PUT',
      `/api/vhosts/${enc}`,
      {},
    );
    if (!created.ok) throw new Error(`cannot create vhost ${vhost}: HTTP ${created.status}`);
    const perms = await managementRequest(
      servers.rabbitManagementUrl,
      'PUT',
      `/api/permissions/${enc}/${encodeURIComponent(user)}`,
      { configure: '.*', write: '.*', read: '.*' },
    );
    if (!perms.ok) throw new Error(`cannot grant vhost ${vhost}: HTTP ${perms.status}`);
  } else {
    await run('rabbitmqctl', ['add_vhost', vhost]);
    await run('rabbitmqctl', ['set_permissions', '-p', vhost, user, '.*', '.*', '.*']);
  }
  base.pathname = `/${enc}`;
  return {
    vhost,
    url: base.toString(),
    drop: async () => {
      if (useApi)
        await managementRequest(servers.rabbitManagementUrl, 'DELETE', `/api/vhosts/${enc}`);
      else await run('rabbitmqctl', ['delete_vhost', vhost]);
    },
  };
}
