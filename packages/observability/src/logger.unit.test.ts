import { createLogger, redactUrl } from './logger';

describe('createLogger', () => {
  it('writes JSON lines with the service name and never the secrets', () => {
    const lines: string[] = [];
    const log = createLogger({
      service: 'gateway',
      level: 'info',
      destination: { write: (line: string) => void lines.push(line) },
    });
    log.info(
      {
        config: { DATABASE_URL: 'postgres://u:hunter2@db/x', PORT: 8080 },
        req: { headers: { authorization: 'Bearer rtn_secret', host: 'x' } },
        apiKey: 'rtn_secret2',
      },
      'started',
    );
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(entry).toMatchObject({ level: 'info', service: 'gateway', msg: 'started' });
    expect(lines[0]).not.toMatch(/hunter2|rtn_secret/);
    expect(entry).toMatchObject({
      config: { DATABASE_URL: '[redacted]', PORT: 8080 },
      req: { headers: { authorization: '[redacted]', host: 'x' } },
      apiKey: '[redacted]',
    });
  });
});

describe('redactUrl', () => {
  it('hides the password of a URL and survives garbage', () => {
    expect(redactUrl('amqp://guest:guest@127.0.0.1:5672/v')).toBe(
      'amqp://guest:***@127.0.0.1:5672/v',
    );
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(redactUrl('not a url')).toBe('[unparseable url]');
  });
});
