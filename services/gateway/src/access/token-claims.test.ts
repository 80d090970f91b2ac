import { createHmac } from 'node:crypto';
import { DEV_JWT_SECRET } from '@reten/auth';
import { TEST_JWT_SECRET } from '@reten/testing';
import { startTestGateway } from '../test-fixture';
import type { TestGateway } from '../test-fixture';
import { api } from '../test-api';

const ISSUER = 'reten-claims';
const AUDIENCE = 'reten-claims-api';
const PREVIOUS = 'the-previous-secret-0123456789';

/** A token with exactly these claims, signed as someone holding `secret` would sign it. */
function forge(claims: Record<string, unknown>, secret: string): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signed = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`;
  return `${signed}.${createHmac('sha256', secret).update(signed).digest('base64url')}`;
}

function keyIdOf(apiKey: string): string {
  return `ak_${apiKey.slice(4, 20)}`;
}

function errorOf(body: unknown): { code?: string; message?: string } {
  return (body as { error?: { code?: string; message?: string } }).error ?? {};
}

describe('access token claims', () => {
  let gw: TestGateway;
  let claims: () => Record<string, unknown>;

  beforeAll(async () => {
    gw = await startTestGateway('token claims', {
      env: {
        JWT_ISSUER: ISSUER,
        JWT_AUDIENCE: AUDIENCE,
        JWT_TTL_SECONDS: '600',
        JWT_SECRET_PREVIOUS: PREVIOUS,
      },
    });
    claims = () => {
      const now = Math.floor(Date.now() / 1000);
      return {
        sub: keyIdOf(gw.apiKey),
        tenant: gw.tenantId,
        scopes: ['admin'],
        iss: ISSUER,
        aud: AUDIENCE,
        iat: now,
        exp: now + 300,
      };
    };
  });

  afterAll(async () => {
    await gw?.close();
  });

  async function statusWith(token: string): Promise<[number, string | undefined]> {
    const res = await api(gw, 'GET', '/api/v1/events', undefined, { auth: token });
    return [res.status, res.status === 200 ? undefined : errorOf(res.body).code];
  }

  it('accepts a token with every required claim (the refusals below are not vacuous)', async () => {
    expect(await statusWith(forge(claims(), TEST_JWT_SECRET))).toEqual([200, undefined]);
  });

  it('refuses a forged admin token signed with the published development secret: 401', async () => {
    const res = await api(gw, 'GET', '/api/v1/events', undefined, {
      auth: forge(claims(), DEV_JWT_SECRET),
    });
    expect(res.status).toBe(401);
    expect(errorOf(res.body)).toMatchObject({
      code: 'unauthorized',
      message: 'The token signature is invalid',
    });
  });

  it.each(['exp', 'iat', 'iss', 'aud'])('answers 401 to a token without %s', async (claim) => {
    const payload = claims();
    delete payload[claim];
    expect(await statusWith(forge(payload, TEST_JWT_SECRET))).toEqual([401, 'unauthorized']);
  });

  it('answers 401 to a lifetime longer than JWT_TTL_SECONDS, another issuer or audience', async () => {
    const { iat } = claims() as { iat: number };
    for (const change of [
      { exp: iat + 601 },
      { exp: iat + 10 * 365 * 86_400 },
      { iss: 'someone-else' },
      { aud: 'another-api' },
    ]) {
      const res = await statusWith(forge({ ...claims(), ...change }, TEST_JWT_SECRET));
      expect([change, res]).toEqual([change, [401, 'unauthorized']]);
    }
  });

  it('accepts a token of JWT_SECRET_PREVIOUS during a rotation, and issues with JWT_SECRET', async () => {
    expect(await statusWith(forge(claims(), PREVIOUS))).toEqual([200, undefined]);
    const res = await api(gw, 'POST', '/api/v1/auth/token', { scopes: ['events:read'] });
    const token = (res.body as { access_token: string }).access_token;
    const [header, payload] = token.split('.') as [string, string];
    const expected = createHmac('sha256', TEST_JWT_SECRET)
      .update(`${header}.${payload}`)
      .digest('base64url');
    expect(token.split('.')[2]).toBe(expected);
  });
});

describe('a gateway in development mode (RETEN_ENV=development)', () => {
  it('accepts tokens signed with the published development secret', async () => {
    const gw = await startTestGateway('token claims dev', {
      env: { RETEN_ENV: 'development', JWT_SECRET: DEV_JWT_SECRET },
    });
    try {
      const now = Math.floor(Date.now() / 1000);
      const token = forge(
        {
          sub: keyIdOf(gw.apiKey),
          tenant: gw.tenantId,
          scopes: ['admin'],
          iss: 'reten',
          aud: 'reten-api',
          iat: now,
          exp: now + 60,
        },
        DEV_JWT_SECRET,
      );
      const res = await api(gw, 'GET', '/api/v1/events', undefined, { auth: token });
      expect(res.status).toBe(200);
    } finally {
      await gw.close();
    }
  });
});
