import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createTestSchema, eventually, silentLogger } from '@reten/testing';
import type { TestSchema } from '@reten/testing';
import { DEFAULT_MIGRATIONS_DIR } from './migrate';
import { NOTIFY_CHANNEL_PREFIXES, webhookEndpointsChannel } from './notify-channels';
import { PgListener } from './pg-listener';

const REPO = path.resolve(__dirname, '../../..');
const PREFIXES: string[] = Object.values(NOTIFY_CHANNEL_PREFIXES);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(full);
    return /\.ts$/.test(entry.name) && !/\.test\.ts$/.test(entry.name) ? [full] : [];
  });
}

describe('NOTIFY channel names', () => {
  it('are the only channels the migrations notify on', () => {
    const named: string[] = [];
    for (const file of readdirSync(DEFAULT_MIGRATIONS_DIR).filter((f) => f.endsWith('.sql'))) {
      const sql = readFileSync(path.join(DEFAULT_MIGRATIONS_DIR, file), 'utf8');
      for (const match of sql.matchAll(/pg_notify\s*\(\s*'([^']*)'/gi)) named.push(match[1]!);
      // a channel the SQL computes some other way could not be checked here
      expect(sql.match(/pg_notify\s*\(\s*[^'\s]/gi) ?? []).toEqual([]);
    }
    expect(named.length).toBeGreaterThan(0);
    for (const channel of named) expect(PREFIXES).toContain(channel);
  });

  it('reach the SQL of the code as parameters, never as literals', () => {
    const offenders: string[] = [];
    for (const root of ['packages', 'services']) {
      for (const pkg of readdirSync(path.join(REPO, root))) {
        const src = path.join(REPO, root, pkg, 'src');
        let files: string[] = [];
        try {
          files = sourceFiles(src);
        } catch {
          continue; // a package without src/
        }
        for (const file of files) {
          const text = readFileSync(file, 'utf8');
          if (/pg_notify\s*\(\s*'|LISTEN\s+"?reten_/i.test(text)) offenders.push(file);
        }
      }
    }
    expect(offenders).toEqual([]);
  });

  describe('in a migrated schema', () => {
    let schema: TestSchema;

    beforeAll(async () => {
      schema = await createTestSchema('notify channels');
    });

    afterAll(async () => {
      await schema?.drop();
    });

    it('the webhook endpoints trigger fires the listed channel with the tenant', async () => {
      const heard: string[] = [];
      const listener = new PgListener({
        name: 'test',
        connection: { pool: schema.pool },
        channels: { [webhookEndpointsChannel(schema.schema)]: (tenant) => heard.push(tenant) },
        log: silentLogger(),
      });
      await listener.start();
      try {
        expect(listener.ready).toBe(true);
        await schema.pool.query(
          `INSERT INTO webhook_endpoints (id, tenant_id, url) VALUES ('we_1', 'acme', 'https://example.com/')`,
        );
        await eventually(() => expect(heard).toEqual(['acme']), { timeoutMs: 2000 });
      } finally {
        await listener.stop();
      }
    });
  });
});
