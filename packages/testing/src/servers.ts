import { connect } from 'node:net';
import { startContainers } from './containers';

/** Where the real servers of a test run are. */
export interface TestServers {
  databaseUrl: string;
  rabbitUrl: string;
  rabbitManagementUrl: string;
  redisUrl: string;
}

const DEFAULTS: TestServers = {
  databaseUrl: 'postgres://root@127.0.0.1:5432/test',
  rabbitUrl: 'amqp://guest:guest@127.0.0.1:5672',
  rabbitManagementUrl: 'http://guest:guest@127.0.0.1:15672',
  redisUrl: 'redis://127.0.0.1:6379',
};

/** Whether something accepts TCP connections at host:port. */
export function tcpAnswers(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function hostPort(url: string, defaultPort: number): [string, number] {
  const u = new URL(url);
  return [u.hostname, u.port ? Number(u.port) : defaultPort];
}

let cached: Promise<TestServers> | undefined;

/**
 * The servers to test against: the URLs in DATABASE_URL / RABBITMQ_URL / REDIS_URL where set,
 * else the 127.0.0.1 defaults where they answer, else containers when a Docker engine answers.
 */
export function testServers(): Promise<TestServers> {
  cached ??= resolveServers();
  return cached;
}

async function resolveServers(): Promise<TestServers> {
  const env = process.env;
  const servers: TestServers = {
    databaseUrl: env.TEST_DATABASE_URL ?? env.DATABASE_URL ?? DEFAULTS.databaseUrl,
    rabbitUrl: env.TEST_RABBITMQ_URL ?? env.RABBITMQ_URL ?? DEFAULTS.rabbitUrl,
    rabbitManagementUrl: env.TEST_RABBITMQ_MANAGEMENT_URL ?? DEFAULTS.rabbitManagementUrl,
    redisUrl: env.TEST_REDIS_URL ?? env.REDIS_URL ?? DEFAULTS.redisUrl,
  };
  const reachable = await Promise.all([
    tcpAnswers(...hostPort(servers.databaseUrl, 5432)),
    tcpAnswers(...hostPort(servers.rabbitUrl, 5672)),
    tcpAnswers(...hostPort(servers.redisUrl, 6379)),
  ]);
  if (reachable.every(Boolean)) return servers;
  return startContainers(servers, reachable);
}
