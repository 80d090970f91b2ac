import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ServiceProcess, eventually, freePort } from '@reten/testing';
import { startTestGateway } from '../../services/gateway/src/test-fixture';
import type { TestGateway } from '../../services/gateway/src/test-fixture';
import { api } from '../../services/gateway/src/test-api';

jest.setTimeout(60_000);

const README = path.join(__dirname, '../../packages/eworker/README.md');

/** The first fenced block of `lang` in the SDK README. */
function block(lang: string): string {
  const match = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(readFileSync(README, 'utf8'));
  if (!match?.[1]) throw new Error(`no ${lang} block in the SDK README`);
  return match[1];
}

let gw: TestGateway;
let eworker: ServiceProcess | undefined;
// beside this test so that `require('@reten/eworker')` and `require('zod')` resolve as for a user
const script = path.join(__dirname, `.readme-example-${randomBytes(4).toString('hex')}.js`);

beforeAll(async () => {
  gw = await startTestGateway('eworker readme', { tenantId: 'acme' });
  await gw.schema.pool.query(block('sql'));
  writeFileSync(script, block('js'));
  const port = await freePort();
  eworker = await ServiceProcess.start({
    script,
    env: {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: gw.schema.databaseUrl,
      DATABASE_SCHEMA: gw.schema.schema,
      RABBITMQ_URL: gw.vhost.url,
      MIGRATE_ON_START: 'false',
      LOG_LEVEL: 'warn',
    },
    readyUrl: `http://127.0.0.1:${port}/readyz`,
  });
});

afterAll(async () => {
  await eworker?.kill('SIGTERM');
  rmSync(script, { force: true });
  await gw?.close();
});

describe('the SDK README example', () => {
  it('runs as written: registers its schema, stores valid greetings, and the gateway refuses invalid ones', async () => {
    await eventually(async () => {
      const invalid = await api(gw, 'POST', '/v1.0/event/greeting.sent', { to: '' });
      expect(invalid.status).toBe(422);
      expect(invalid.body).toMatchObject({
        error: {
          code: 'validation_failed',
          details: expect.arrayContaining([
            expect.objectContaining({ path: 'body.to' }),
            expect.objectContaining({ path: 'body.text' }),
          ]) as unknown,
        },
      });
    });
    const res = await api(gw, 'POST', '/v1.0/event/greeting.sent', { to: 'ada', text: 'hello' });
    expect(res.status).toBe(202);
    await eventually(async () => {
      const rows = await gw.schema.pool.query('SELECT tenant_id, recipient, body FROM greetings');
      expect(rows.rows).toEqual([{ tenant_id: 'acme', recipient: 'ada', body: 'hello' }]);
    });
    expect(await eworker!.kill('SIGTERM')).toBe(0);
  });
});
