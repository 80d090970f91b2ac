import { generateKeyPairSync } from 'node:crypto';
import { ConfigError } from '@reten/config';
import { loadGatewayConfig } from '../config';
import { startTestGateway } from '../test-fixture';
import type { TestGateway } from '../test-fixture';
import { api } from '../test-api';

function pemPair() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

describe('RS256 access tokens', () => {
  let gw: TestGateway;
  const keys = pemPair();

  beforeAll(async () => {
    gw = await startTestGateway('gateway rs256', {
      env: {
        JWT_ALGORITHM: 'RS256',
        // as an environment variable would carry it: one line with \n escapes
        JWT_PRIVATE_KEY: keys.privateKey.replace(/\n/g, '\\n'),
        JWT_PUBLIC_KEY: keys.publicKey.replace(/\n/g, '\\n'),
      },
    });
  });

  afterAll(async () => {
    await gw?.close();
  });

  it('issues RS256 tokens from PEM keys in config and accepts them', async () => {
    const res = await api(gw, 'POST', '/api/v1/auth/token', { scopes: ['events:read'] });
    expect(res.status).toBe(200);
    const token = (res.body as { access_token: string }).access_token;
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as {
      alg: string;
    };
    expect(header.alg).toBe('RS256');
    expect((await api(gw, 'GET', '/api/v1/events', undefined, { auth: token })).status).toBe(200);
  });

  it('refuses to start RS256 without the keys it needs, naming the variable', () => {
    const load = (env: Record<string, string>) => () =>
      loadGatewayConfig({ JWT_ALGORITHM: 'RS256', ...env });
    expect(load({})).toThrow(ConfigError);
    expect(load({})).toThrow('JWT_PUBLIC_KEY');
    expect(load({ JWT_PUBLIC_KEY: keys.publicKey })).toThrow('JWT_PRIVATE_KEY');
    expect(load({ JWT_PUBLIC_KEY: 'not a key', JWT_PRIVATE_KEY: keys.privateKey })).toThrow(
      'JWT_PUBLIC_KEY: not a PEM public key',
    );
  });
});
