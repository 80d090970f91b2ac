import type { TestServers } from './servers';

/**
 * Starts containers for the servers that do not answer, when a Docker engine is available.
 * Loaded only on that path: testcontainers is never touched on a machine without Docker.
 */
export async function startContainers(
  servers: TestServers,
  reachable: boolean[],
): Promise<TestServers> {
  const tc = await import('testcontainers');
  try {
    await tc.getContainerRuntimeClient();
  } catch (err) {
    throw new Error(
      'PostgreSQL, RabbitMQ or Redis is unreachable and no Docker engine answers: start the servers ' +
        `or set DATABASE_URL / RABBITMQ_URL / REDIS_URL (${(err as Error).message})`,
    );
  }
  const result = { ...servers };
  const [pgUp, rabbitUp, redisUp] = reachable;
  if (!pgUp) {
    const pg = await new tc.GenericContainer('postgres:16-alpine')
      .withEnvironment({
        POSTGRES_USER: 'root',
        POSTGRES_HOST_AUTH_METHOD: 'trust',
        POSTGRES_DB: 'test',
      })
      .withExposedPorts(5432)
      .withWaitStrategy(tc.Wait.forLogMessage(/database system is ready to accept connections/, 2))
      .start();
    result.databaseUrl = `postgres://root@${pg.getHost()}:${pg.getMappedPort(5432)}/test`;
  }
  if (!rabbitUp) {
    const rabbit = await new tc.GenericContainer('rabbitmq:4-management')
      .withExposedPorts(5672, 15672)
      .withWaitStrategy(tc.Wait.forLogMessage(/Server startup complete/))
      .start();
    result.rabbitUrl = `amqp://guest:guest@${rabbit.getHost()}:${rabbit.getMappedPort(5672)}`;
    result.rabbitManagementUrl = `http://guest:guest@${rabbit.getHost()}:${rabbit.getMappedPort(15672)}`;
  }
  if (!redisUp) {
    const redis = await new tc.GenericContainer('redis:7-alpine').withExposedPorts(6379).start();
    result.redisUrl = `redis://${redis.getHost()}:${redis.getMappedPort(6379)}`;
  }
  return result;
}
