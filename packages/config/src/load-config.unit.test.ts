import { z } from 'zod';
import { boolVar, intVar, postgresConfig, urlVar } from './common';
import { ConfigError, configTable, loadConfig } from './load-config';

const shape = {
  PORT: intVar(8080, 0, 65535, 'HTTP port'),
  FLAG: boolVar(false, 'A flag'),
  TARGET_URL: urlVar('amqp://127.0.0.1:5672', ['amqp'], 'Broker'),
  NAME: z.string().default('x').describe('A name'),
};

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies every default when the environment is empty', () => {
    expect(loadConfig(shape, {})).toEqual({
      PORT: 8080,
      FLAG: false,
      TARGET_URL: 'amqp://127.0.0.1:5672',
      NAME: 'x',
    });
  });

  it('coerces numbers and booleans from strings and treats an empty value as unset', () => {
    expect(loadConfig(shape, { PORT: '9000', FLAG: 'yes', NAME: '' })).toMatchObject({
      PORT: 9000,
      FLAG: true,
      NAME: 'x',
    });
  });

  it('names the variable and the bad value when a value is invalid', () => {
    const problems = problemsOf(() => loadConfig(shape, { PORT: '99999', TARGET_URL: 'http://x' }));
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^PORT: .*\(got "99999"\)$/);
    expect(problems[1]).toMatch(/^TARGET_URL: must start with amqp:\/\//);
  });

  it('fails on an unknown RETEN_* variable, and ignores other unknown variables', () => {
    const problems = problemsOf(() => loadConfig(shape, { RETEN_PORTT: '1', HOME: '/root' }));
    expect(problems).toEqual(['RETEN_PORTT: unknown variable (not used by this service)']);
  });

  it('puts every problem in the error message', () => {
    expect(() => loadConfig(shape, { PORT: 'abc', RETEN_X: '1' })).toThrow(
      /invalid configuration:\n {2}RETEN_X: unknown variable.*\n {2}PORT: /s,
    );
  });

  it('refuses a DATABASE_SCHEMA that is not a plain SQL identifier', () => {
    const problems = problemsOf(() =>
      loadConfig(postgresConfig, { DATABASE_SCHEMA: 'x"; DROP TABLE events; --' }),
    );
    expect(problems[0]).toMatch(/^DATABASE_SCHEMA: /);
  });
});

describe('configTable', () => {
  it('lists each variable with its default and description', () => {
    const table = configTable(shape).split('\n');
    expect(table[0]).toBe('| variable | default | description |');
    expect(table).toContain('| `PORT` | `8080` | HTTP port |');
    expect(table).toContain('| `FLAG` | `false` | A flag |');
  });
});
