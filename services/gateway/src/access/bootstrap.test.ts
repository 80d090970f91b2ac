import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Authenticator } from '@reten/auth';
import { createTestSchema, silentLogger } from '@reten/testing';
import type { TestSchema } from '@reten/testing';
import { bootstrapDevKey } from './bootstrap';

describe('bootstrap of the dev tenant and key', () => {
  let schema: TestSchema;
  let home: string;
  let auth: Authenticator;

  beforeAll(async () => {
    schema = await createTestSchema('bootstrap');
    home = await mkdtemp(path.join(tmpdir(), 'reten-bootstrap-'));
    auth = new Authenticator({
      pool: schema.pool,
      schema: schema.schema,
      jwt: {
        algorithm: 'HS256',
        secret: 'x'.repeat(32),
        issuer: 'i',
        audience: 'a',
        ttlSeconds: 60,
      },
      log: silentLogger(),
    });
  });

  afterAll(async () => {
    await schema?.drop();
    await rm(home, { recursive: true, force: true });
  });

  const run = (presetKey: string | undefined, keyFile: string, limits = {}) =>
    bootstrapDevKey({
      pool: schema.pool,
      schema: schema.schema,
      tenantId: 'dev',
      presetKey,
      keyFile,
      limits,
    });

  it('creates the dev tenant and an all-scopes key, writes it (mode 600), and keeps it on a second run', async () => {
    const keyFile = path.join(home, 'a', 'dev-api-key');
    const first = await run(undefined, keyFile);
    expect(first.created).toBe(true);
    expect((await readFile(keyFile, 'utf8')).trim()).toBe(first.key);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect(await auth.authenticate(first.key)).toMatchObject({
      tenantId: 'dev',
      scopes: ['events:write', 'events:read', 'webhooks:manage', 'stream:read', 'admin'],
    });

    const second = await run(undefined, keyFile);
    expect(second).toEqual({ ...first, created: false });
    const keys = await schema.pool.query('SELECT id FROM api_keys WHERE tenant_id = $1', ['dev']);
    expect(keys.rowCount).toBe(1);
  });

  it('uses RETEN_BOOTSTRAP_API_KEY as the key, idempotently, and refuses a malformed one', async () => {
    const preset = `rtn_00112233445566ff_${'p'.repeat(40)}`;
    const keyFile = path.join(home, 'b', 'dev-api-key');
    expect(await run(preset, keyFile)).toMatchObject({ key: preset, created: true });
    expect(await run(preset, keyFile)).toMatchObject({ key: preset, created: false });
    expect((await auth.authenticate(preset)).keyId).toBe('ak_00112233445566ff');
    await expect(run('my-dev-key', keyFile)).rejects.toThrow(
      'RETEN_BOOTSTRAP_API_KEY must look like',
    );
  });

  it('makes a new key when the one in the key file was revoked', async () => {
    const keyFile = path.join(home, 'c', 'dev-api-key');
    const first = await run(undefined, keyFile);
    await auth.revoke('dev', first.keyId);
    const next = await run(undefined, keyFile);
    expect(next.created).toBe(true);
    expect(next.key).not.toBe(first.key);
    expect((await readFile(keyFile, 'utf8')).trim()).toBe(next.key);
  });

  it('sets the tenant’s own limits when asked', async () => {
    await run(undefined, path.join(home, 'd', 'dev-api-key'), { restRequestsPerMinute: 77 });
    const row = await schema.pool.query(
      'SELECT rest_requests_per_minute FROM tenants WHERE id = $1',
      ['dev'],
    );
    expect(row.rows).toEqual([{ rest_requests_per_minute: 77 }]);
  });
});
