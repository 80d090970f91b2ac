import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  ServiceProcess,
  TEST_JWT_SECRET,
  createTestSchema,
  createTestVhost,
  freePort,
  testServers,
  uniqueName,
  webhookReceiver,
} from '@reten/testing';
import type { TestSchema, TestVhost, WebhookReceiver } from '@reten/testing';
import { deliveryRedisPrefix, startDeliveryProcess } from './delivery-process';
import { createApiKey, startGatewayProcess } from './gateway-process';

const STREAM_MAIN = path.resolve(__dirname, '../../services/stream/dist/main.js');
const EWORKER_SCRIPT = path.join(__dirname, 'fixtures', 'console-eworker.js');

/** The whole stack as processes for the console's browser test, each in its own schema/vhost. */
export interface ConsoleStack {
  schema: TestSchema;
  vhost: TestVhost;
  gatewayUrl: string;
  streamWsUrl: string;
  apiKey: string;
  receiver: WebhookReceiver;
  /** While this file exists the test eworker fails (and parks) every event. */
  eworkerFailFile: string;
  eworkerFails(on: boolean): void;
  stop(): Promise<void>;
}

async function startStream(schema: TestSchema, vhost: TestVhost, redisPrefix: string) {
  const port = await freePort();
  const proc = await ServiceProcess.start({
    script: STREAM_MAIN,
    env: {
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      JWT_SECRET: TEST_JWT_SECRET,
      DATABASE_URL: schema.databaseUrl,
      DATABASE_SCHEMA: schema.schema,
      DATABASE_POOL_SIZE: '4',
      RABBITMQ_URL: vhost.url,
      REDIS_URL: (await testServers()).redisUrl,
      REDIS_KEY_PREFIX: redisPrefix,
    },
    readyUrl: `http://127.0.0.1:${port}/readyz`,
  });
  return { proc, wsUrl: `ws://127.0.0.1:${port}/events/stream` };
}

async function startEworker(schema: TestSchema, vhost: TestVhost, failFile: string) {
  const port = await freePort();
  return ServiceProcess.start({
    script: EWORKER_SCRIPT,
    env: {
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      DATABASE_URL: schema.databaseUrl,
      DATABASE_SCHEMA: schema.schema,
      DATABASE_POOL_SIZE: '3',
      RABBITMQ_URL: vhost.url,
      MIGRATE_ON_START: 'false',
      EWORKER_MAX_ATTEMPTS: '2',
      EWORKER_RETRY_BASE_MS: '50',
      TEST_EWORKER_FAIL_FILE: failFile,
    },
    readyUrl: `http://127.0.0.1:${port}/readyz`,
  });
}

/**
 * Gateway, delivery, stream and one eworker as real processes from their `dist/` (`pnpm build`
 * first: the gateway serves the built console), plus a local webhook receiver.
 */
export async function startConsoleStack(title: string): Promise<ConsoleStack> {
  const schema = await createTestSchema(title);
  const vhost = await createTestVhost(title);
  const apiKey = await createApiKey(schema, 'dev');
  const receiver = await webhookReceiver();
  const eworkerFailFile = path.join(tmpdir(), `${uniqueName(title)}.fail`);
  const processes: ServiceProcess[] = [];
  const stop = async () => {
    for (const p of processes.reverse()) await p.kill('SIGTERM').catch(() => undefined);
    await receiver.close();
    rmSync(eworkerFailFile, { force: true });
    await schema.drop();
    await vhost.drop();
  };
  try {
    const gateway = await startGatewayProcess(schema, vhost, {
      JWT_SECRET: TEST_JWT_SECRET,
      WEBHOOK_ALLOW_PRIVATE: 'true',
    });
    processes.push(gateway.process);
    // the consumers' queues must exist before the first event is published
    processes.push(
      (await startDeliveryProcess(schema, vhost, deliveryRedisPrefix(title), {})).process,
    );
    const stream = await startStream(schema, vhost, `${uniqueName(title)}:`);
    processes.push(stream.proc);
    processes.push(await startEworker(schema, vhost, eworkerFailFile));
    return {
      schema,
      vhost,
      gatewayUrl: gateway.url,
      streamWsUrl: stream.wsUrl,
      apiKey,
      receiver,
      eworkerFailFile,
      eworkerFails: (on) => {
        if (on) writeFileSync(eworkerFailFile, 'fail');
        else if (existsSync(eworkerFailFile)) rmSync(eworkerFailFile);
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
