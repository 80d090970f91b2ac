import { ConfigError, loadConfig } from '@reten/config';
import { silentLogger } from '@reten/testing';
import { DEV_JWT_SECRET, authConfig, checkAuthConfig, jwtOptionsFromConfig } from './auth-config';

function problemsOf(env: Record<string, string>): string[] {
  try {
    checkAuthConfig(loadConfig(authConfig, env), { signs: true });
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe('the development JWT_SECRET', () => {
  it('is refused outside development, set or by default, naming the variable and RETEN_ENV', () => {
    for (const env of [{}, { JWT_SECRET: DEV_JWT_SECRET }, { RETEN_ENV: 'production' }]) {
      const problems = problemsOf(env);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^JWT_SECRET: the published development default is refused/);
      expect(problems[0]).toContain('RETEN_ENV=development');
    }
  });

  it('is refused as JWT_SECRET_PREVIOUS too', () => {
    expect(
      problemsOf({ JWT_SECRET: 'a-real-secret-0123456789', JWT_SECRET_PREVIOUS: DEV_JWT_SECRET }),
    ).toEqual([expect.stringMatching(/^JWT_SECRET_PREVIOUS: the published development default/)]);
  });

  it('is accepted with RETEN_ENV=development, with a warning', () => {
    expect(problemsOf({ RETEN_ENV: 'development' })).toEqual([]);
    const warnings: string[] = [];
    const log = silentLogger();
    log.warn = ((_: unknown, msg: string) => warnings.push(msg)) as unknown as typeof log.warn;
    const options = jwtOptionsFromConfig(loadConfig(authConfig, { RETEN_ENV: 'development' }), log);
    expect(options).toMatchObject({ algorithm: 'HS256', secret: DEV_JWT_SECRET });
    expect(warnings).toEqual([
      'development mode: tokens signed with the published development JWT_SECRET are accepted',
    ]);
  });

  it('makes jwtOptionsFromConfig throw too, so a caller that skips the check cannot use it', () => {
    expect(() => jwtOptionsFromConfig(loadConfig(authConfig, {}), silentLogger())).toThrow(
      /JWT_SECRET: the published development default/,
    );
  });

  it('is not needed for a secret of your own, nor with RS256', () => {
    expect(problemsOf({ JWT_SECRET: 'a-real-secret-0123456789' })).toEqual([]);
    expect(problemsOf({ JWT_ALGORITHM: 'RS256' })).toEqual([
      'JWT_PUBLIC_KEY: required when JWT_ALGORITHM is RS256',
      'JWT_PRIVATE_KEY: required to issue tokens when JWT_ALGORITHM is RS256',
    ]);
  });

  it('refuses an unknown RETEN_ENV, a short JWT_SECRET_PREVIOUS and a JWT_PUBLIC_KEY_PREVIOUS that is not PEM', () => {
    expect(() => loadConfig(authConfig, { RETEN_ENV: 'dev' })).toThrow(/RETEN_ENV/);
    expect(() => loadConfig(authConfig, { JWT_SECRET_PREVIOUS: 'short' })).toThrow(
      /JWT_SECRET_PREVIOUS: must be empty or at least 16 characters/,
    );
    expect(
      problemsOf({
        JWT_ALGORITHM: 'RS256',
        JWT_PUBLIC_KEY: 'nope',
        JWT_PRIVATE_KEY: 'nope',
        JWT_PUBLIC_KEY_PREVIOUS: 'nope',
      }),
    ).toEqual([
      'JWT_PUBLIC_KEY: not a PEM public key',
      'JWT_PUBLIC_KEY_PREVIOUS: not a PEM public key',
      'JWT_PRIVATE_KEY: not a PEM private key',
    ]);
  });
});
