import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_API_URL, resolveConfig, streamUrlFor } from './config';
import { UsageError } from './exit-codes';

function cloneWithKey(key: string): { root: string; deep: string } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'reten-cli-config-'));
  mkdirSync(path.join(root, '.reten'));
  writeFileSync(path.join(root, '.reten', 'dev-api-key'), `${key}\n`);
  const deep = path.join(root, 'services', 'gateway');
  mkdirSync(deep, { recursive: true });
  return { root, deep };
}

describe('streamUrlFor', () => {
  it("maps the local stack's API port to the stream's, keeping the host", () => {
    expect(streamUrlFor('http://localhost:8080')).toBe('ws://localhost:8081/events/stream');
  });

  it('keeps the host and port of any other API URL, with ws or wss', () => {
    expect(streamUrlFor('https://reten.example.com/')).toBe(
      'wss://reten.example.com/events/stream',
    );
    expect(streamUrlFor('http://10.0.0.5:9000')).toBe('ws://10.0.0.5:9000/events/stream');
  });
});

describe('resolveConfig', () => {
  it('uses the flags (or variables) first', () => {
    const { deep } = cloneWithKey('rtn_from_file');
    const config = resolveConfig(
      { apiUrl: 'https://api.example.com/', apiKey: 'rtn_flag', timeoutMs: 500, json: true },
      deep,
      {},
    );
    expect(config).toEqual({
      apiUrl: 'https://api.example.com',
      apiKey: 'rtn_flag',
      streamUrl: 'wss://api.example.com/events/stream',
      json: true,
      timeoutMs: 500,
    });
  });

  it('falls back to .reten/dev-api-key in the nearest directory above that has one', () => {
    const { deep } = cloneWithKey('rtn_from_file');
    const config = resolveConfig({}, deep, {});
    expect(config.apiKey).toBe('rtn_from_file');
    expect(config.apiUrl).toBe(DEFAULT_API_URL);
    expect(config.streamUrl).toBe('ws://localhost:8081/events/stream');
  });

  it('reads the key from $RETEN_HOME/dev-api-key when RETEN_HOME is set, as the bootstrap writes it', () => {
    const { root } = cloneWithKey('rtn_home');
    const elsewhere = mkdtempSync(path.join(os.tmpdir(), 'reten-cli-cwd-'));
    expect(resolveConfig({}, elsewhere, { RETEN_HOME: path.join(root, '.reten') }).apiKey).toBe(
      'rtn_home',
    );
  });

  it('is a usage error without any key, or with a URL that is not one', () => {
    const nowhere = mkdtempSync(path.join(os.tmpdir(), 'reten-cli-none-'));
    expect(() => resolveConfig({}, nowhere, {})).toThrow(UsageError);
    expect(() => resolveConfig({}, nowhere, {})).toThrow(/no API key/);
    expect(() => resolveConfig({ apiKey: 'k', apiUrl: 'localhost:8080' }, nowhere, {})).toThrow(
      /--api-url must be an absolute URL|--api-url must start with/,
    );
    expect(() =>
      resolveConfig({ apiKey: 'k', streamUrl: 'http://localhost:8081' }, nowhere, {}),
    ).toThrow(/--stream-url must start with ws: or wss:/);
  });
});
