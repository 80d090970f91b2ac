import { ClientLogSchema, MAX_LINES_PER_EVENT } from './client-log-schema';

const valid = {
  client: {
    browser: 'Firefox',
    version: '133.0',
    os: 'Linux',
    screen_width: 1920,
    screen_height: 1080,
    app_name: 'shop-web',
    app_version: '2.4.1',
  },
  logs: [{ timestamp: '2026-11-25T10:00:00.000Z', level: 'error', message: 'boom' }],
};

describe('ClientLogSchema', () => {
  it('accepts the EVCI example with every client field', () => {
    expect(ClientLogSchema.safeParse(valid).success).toBe(true);
  });

  it('accepts a client that only names its app and version', () => {
    const data = { ...valid, client: { app_name: 'cli', app_version: '1' } };
    expect(ClientLogSchema.safeParse(data).success).toBe(true);
  });

  it('rejects a level outside trace, debug, info, warn, error, fatal', () => {
    const data = { ...valid, logs: [{ ...valid.logs[0], level: 'WARNING' }] };
    const result = ClientLogSchema.safeParse(data);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['logs', 0, 'level']);
  });

  it('rejects a timestamp that is not ISO 8601', () => {
    const data = { ...valid, logs: [{ ...valid.logs[0], timestamp: 'yesterday' }] };
    expect(ClientLogSchema.safeParse(data).error?.issues[0]?.path).toEqual([
      'logs',
      0,
      'timestamp',
    ]);
  });

  it('rejects an event without lines, without app name, or with too many lines', () => {
    expect(ClientLogSchema.safeParse({ ...valid, logs: [] }).success).toBe(false);
    expect(ClientLogSchema.safeParse({ ...valid, client: { app_version: '1' } }).success).toBe(
      false,
    );
    const many = Array.from({ length: MAX_LINES_PER_EVENT + 1 }, () => valid.logs[0]);
    expect(ClientLogSchema.safeParse({ ...valid, logs: many }).success).toBe(false);
  });
});
