import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from './exit-codes';

/** Where the API is when nothing says otherwise: the local stack of `pnpm start`. */
export const DEFAULT_API_URL = 'http://localhost:8080';
/** Bound of every HTTP request and WebSocket handshake, unless `--timeout-ms` says otherwise. */
export const DEFAULT_TIMEOUT_MS = 15_000;

/** The global options, as commander parsed them (flags, or `RETEN_*` variables). */
export interface GlobalOptions {
  apiUrl?: string | undefined;
  apiKey?: string | undefined;
  streamUrl?: string | undefined;
  json?: boolean | undefined;
  timeoutMs?: number | undefined;
}

export interface CliConfig {
  apiUrl: string;
  apiKey: string;
  /** `ws://…/events/stream` */
  streamUrl: string;
  json: boolean;
  timeoutMs: number;
}

/**
 * The stream's URL when only the API's is known: same host, `ws`/`wss`, path
 * `/events/stream`; port 8080 becomes 8081, the local stack's layout (behind one load
 * balancer both usually share a host and port).
 */
export function streamUrlFor(apiUrl: string): string {
  const url = new URL(apiUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  if (url.port === '8080') url.port = '8081';
  url.pathname = '/events/stream';
  url.search = '';
  url.hash = '';
  return url.toString();
}

/**
 * The development key the local stack writes at its first start: `$RETEN_HOME/dev-api-key`
 * when RETEN_HOME is set (as for the bootstrap), else `.reten/dev-api-key` in `cwd` or the
 * nearest directory above it that has one (the clone's root).
 */
export function findDevKeyFile(cwd: string, env: NodeJS.ProcessEnv): string | undefined {
  if (env.RETEN_HOME) {
    const file = path.join(env.RETEN_HOME, 'dev-api-key');
    return existsSync(file) ? file : undefined;
  }
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    const file = path.join(dir, '.reten', 'dev-api-key');
    if (existsSync(file)) return file;
    if (path.dirname(dir) === dir) return undefined;
  }
}

function checkedUrl(value: string, option: string, protocols: string[]): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${option} must be an absolute URL, got ${JSON.stringify(value)}`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new UsageError(`${option} must start with ${protocols.join(' or ')}//`);
  }
  return value.replace(/\/+$/, '');
}

/**
 * Resolves the configuration of one command: flags and `RETEN_*` variables first (commander
 * merged them), then the local stack's key file. Throws `UsageError` when no key is found.
 */
export function resolveConfig(
  options: GlobalOptions,
  cwd = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): CliConfig {
  const apiUrl = checkedUrl(options.apiUrl ?? DEFAULT_API_URL, '--api-url', ['http:', 'https:']);
  const streamUrl = checkedUrl(options.streamUrl ?? streamUrlFor(apiUrl), '--stream-url', [
    'ws:',
    'wss:',
  ]);
  let apiKey = options.apiKey?.trim();
  if (!apiKey) {
    const file = findDevKeyFile(cwd, env);
    apiKey = file ? readFileSync(file, 'utf8').trim() : undefined;
  }
  if (!apiKey) {
    throw new UsageError(
      'no API key: set RETEN_API_KEY, pass --api-key, or run inside a clone whose local stack ' +
        'has started (it writes .reten/dev-api-key)',
    );
  }
  return {
    apiUrl,
    apiKey,
    streamUrl,
    json: options.json ?? false,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  };
}
