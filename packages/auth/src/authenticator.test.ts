import { generateKeyPairSync } from 'node:crypto';
import { Pool } from 'pg';
import { SCOPES } from '@reten/contracts';
import { createMetricsRegistry } from '@reten/observability';
import { TcpProxy, createTestSchema, eventually, logSink, silentLogger } from '@reten/testing';
import type { TestSchema } from '@reten/testing';
import { Authenticator } from './authenticator';
import { authFailureReason } from './auth-failure';
import { TokenCodec } from './jwt';
import type { JwtOptions } from './jwt';
import { TenantStore } from './tenant-store';

const JWT: JwtOptions = {
  algorithm: 'HS256',
  secret: 'unit-test-secret-0123456789',
  issuer: 'reten',
  audience: 'reten-api',
  ttlSeconds: 60,
};

async function reasonOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return authFailureReason(err) ?? String(err);
  }
}

describe('Authenticator against PostgreSQL', () => {
  let schema: TestSchema;
  let auth: Authenticator;

  beforeAll(async () => {
    schema = await createTestSchema('authenticator');
    await new TenantStore(schema.pool, schema.schema).ensure('acme', 'Acme');
    auth = new Authenticator({
      pool: schema.pool,
      schema: schema.schema,
      jwt: JWT,
      log: silentLogger(),
    });
    await auth.start();
  });

  afterAll(async () => {
    await auth?.stop();
    await schema?.drop();
  });

  it('turns an API key, with or without the Bearer prefix, into its tenant, id and scopes', async () => {
    const { record, key } = await auth.keys.create('acme', 'k', ['events:read', 'events:read']);
    const expected = {
      tenantId: 'acme',
      keyId: record.id,
      scopes: ['events:read'],
      via: 'api_key',
    };
    expect(await auth.authenticate(`Bearer ${key}`)).toEqual(expected);
    expect(await auth.authenticate(`bearer  ${key} `)).toEqual(expected);
    expect(await auth.authenticate(key)).toEqual(expected);
  });

  it('says which problem the credentials have, without echoing them', async () => {
    const { record, key } = await auth.keys.create('acme', 'k', ['admin']);
    const wrongSecret = `${key.slice(0, 21)}${'x'.repeat(43)}`;
    expect(await reasonOf(auth.authenticate(undefined))).toBe('missing');
    expect(await reasonOf(auth.authenticate('  '))).toBe('missing');
    expect(await reasonOf(auth.authenticate('Basic abc'))).toBe('malformed');
    expect(await reasonOf(auth.authenticate('rtn_nope'))).toBe('malformed');
    expect(await reasonOf(auth.authenticate('garbage'))).toBe('malformed');
    expect(await reasonOf(auth.authenticate(wrongSecret))).toBe('unknown_key');
    await auth.revoke('acme', record.id);
    expect(await reasonOf(auth.authenticate(key))).toBe('revoked_key');
    // without the secret nothing is said about the key, not even that it was revoked
    expect(await reasonOf(auth.authenticate(wrongSecret))).toBe('unknown_key');
    const err = await auth.authenticate(wrongSecret).then(
      () => new Error('accepted'),
      (e: unknown) => e as Error,
    );
    expect(err.message).not.toContain(wrongSecret.slice(21));
  });

  it('issues tokens that authenticate with the key’s tenant and the narrowed scopes', async () => {
    const { record, key } = await auth.keys.create('acme', 'k', ['events:read', 'stream:read']);
    const principal = await auth.authenticate(key);
    const issued = auth.issueToken(principal, ['stream:read', 'admin']);
    expect(issued.scopes).toEqual(['stream:read']);
    expect(await auth.authenticate(`Bearer ${issued.token}`)).toEqual({
      tenantId: 'acme',
      keyId: record.id,
      scopes: ['stream:read'],
      via: 'jwt',
    });
  });

  it('refuses a token whose tenant is not its key’s tenant', async () => {
    const { record } = await auth.keys.create('acme', 'k', ['admin']);
    const token = new TokenCodec(JWT).sign({
      keyId: record.id,
      tenantId: 'evil',
      scopes: ['admin'],
    });
    expect(await reasonOf(auth.authenticate(token))).toBe('invalid_token');
  });

  it('verifies RS256 tokens with the public key alone', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = {
      privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    };
    const rs: JwtOptions = { ...JWT, algorithm: 'RS256', ...pem };
    const signer = new Authenticator({
      pool: schema.pool,
      schema: schema.schema,
      jwt: rs,
      log: silentLogger(),
    });
    const verifierOnly: JwtOptions = { ...JWT, algorithm: 'RS256', publicKey: pem.publicKey };
    const verifier = new Authenticator({
      pool: schema.pool,
      schema: schema.schema,
      jwt: verifierOnly,
      log: silentLogger(),
    });
    const { key } = await signer.keys.create('acme', 'k', ['events:read']);
    const token = signer.issueToken(await signer.authenticate(key)).token;
    expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString())).toMatchObject({
      alg: 'RS256',
    });
    expect((await verifier.authenticate(token)).via).toBe('jwt');
    expect(() => verifier.issueToken(principalFor(key))).toThrow('private key');
    // an HS256 token signed with the public key as secret (algorithm confusion) is refused
    const confused = new TokenCodec({ ...JWT, secret: pem.publicKey }).sign({
      keyId: 'ak_0',
      tenantId: 'acme',
      scopes: ['admin'],
    });
    expect(await reasonOf(verifier.authenticate(confused))).toBe('invalid_token');

    function principalFor(_key: string) {
      return {
        tenantId: 'acme',
        keyId: 'ak_0123456789abcdef',
        scopes: [...SCOPES],
        via: 'api_key' as const,
      };
    }
  });

  it('counts failures by reason and logs no credential', async () => {
    const registry = createMetricsRegistry('test');
    const sink = logSink('trace');
    const counted = new Authenticator({
      pool: schema.pool,
      schema: schema.schema,
      jwt: JWT,
      log: sink.log,
      registry,
    });
    await counted.start();
    try {
      const { key } = await counted.keys.create('acme', 'k', ['admin']);
      await counted.authenticate(key);
      await reasonOf(counted.authenticate(undefined));
      await reasonOf(counted.authenticate(`${key.slice(0, 21)}${'y'.repeat(43)}`));
      const text = await registry.metrics();
      expect(text).toMatch(/reten_auth_failures_total\{[^}]*reason="missing"[^}]*\} 1/);
      expect(text).toMatch(/reten_auth_failures_total\{[^}]*reason="unknown_key"[^}]*\} 1/);
      expect(sink.text()).not.toContain(key.slice(21));
    } finally {
      await counted.stop();
    }
  });

  it('tells onRevoked listeners of another process-local Authenticator which key was revoked', async () => {
    const other = new Authenticator({
      pool: schema.pool,
      schema: schema.schema,
      jwt: JWT,
      log: silentLogger(),
    });
    await other.start();
    const heard: string[] = [];
    const remove = other.onRevoked((keyId) => heard.push(keyId));
    try {
      const { record } = await auth.keys.create('acme', 'k', ['stream:read']);
      await auth.revoke('acme', record.id);
      await eventually(() => expect(heard).toEqual([record.id]), { timeoutMs: 2000 });
      remove();
      const still: string[] = [];
      other.onRevoked((keyId) => still.push(keyId));
      await auth.revoke('acme', record.id); // already revoked: no second notification
      const second = await auth.keys.create('acme', 'k2', ['stream:read']);
      await auth.revoke('acme', second.record.id);
      await eventually(() => expect(still).toEqual([second.record.id]), { timeoutMs: 2000 });
      expect(heard).toEqual([record.id]); // removed: did not hear the second one
    } finally {
      await other.stop();
    }
  });

  it('misses no revocation made while its NOTIFY connection was down', async () => {
    const url = new URL(schema.databaseUrl);
    const proxy = await TcpProxy.start(url.hostname, Number(url.port || 5432));
    const pool = new Pool({
      connectionString: proxy.proxiedUrl(schema.databaseUrl),
      max: 3,
      options: `-c search_path="${schema.schema}"`,
    });
    pool.on('error', () => undefined);
    const replica = new Authenticator({
      pool,
      schema: schema.schema,
      jwt: JWT,
      log: silentLogger(),
      cache: { reconnectDelayMs: 50 },
    });
    await replica.start();
    try {
      const { record, key } = await auth.keys.create('acme', 'k', ['admin']);
      expect((await replica.authenticate(key)).keyId).toBe(record.id); // cached on the replica
      proxy.cut();
      // once the replica notices, it stops trusting its cache: 503 (it cannot reach the
      // database either), never the cached answer
      await eventually(async () => {
        const during = await replica.authenticate(key).then(
          () => 'accepted',
          (err: { code?: string }) => err.code,
        );
        expect(during).toBe('service_unavailable');
      });
      await auth.revoke('acme', record.id); // the replica cannot hear this NOTIFY
      proxy.restore();
      expect(await reasonOf(replica.authenticate(key))).toBe('revoked_key');
    } finally {
      await replica.stop();
      await pool.end();
      await proxy.close();
    }
  });
});
