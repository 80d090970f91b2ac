import type { TestGateway } from './test-fixture';

/** What a test sees of one HTTP exchange with the gateway. */
export interface ApiResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON when the answer is JSON, else the text (empty when there is none). */
  body: unknown;
  text: string;
}

export interface ApiOptions {
  headers?: Record<string, string>;
  /** Bearer credential to send instead of the gateway's `apiKey`; null sends none. */
  auth?: string | null;
  /** Send `body` as these exact bytes / this exact text instead of JSON-encoding it. */
  raw?: boolean;
}

/**
 * The one way the gateway tests talk HTTP: authentication is added here once, so no test can forget it.
 * `body` is JSON-encoded with `Content-Type: application/json` unless `raw` is set.
 */
export async function api(
  gw: Pick<TestGateway, 'url'> & { apiKey?: string },
  method: string,
  path: string,
  body?: unknown,
  options: ApiOptions = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...options.headers };
  const credential = options.auth === undefined ? gw.apiKey : options.auth;
  if (credential && !Object.keys(headers).some((h) => h.toLowerCase() === 'authorization')) {
    headers.authorization = `Bearer ${credential}`;
  }
  let payload: string | Buffer | undefined;
  if (body !== undefined) {
    payload = options.raw ? (body as string | Buffer) : JSON.stringify(body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      headers['content-type'] = 'application/json';
    }
  }
  const res = await fetch(`${gw.url}${path}`, {
    method,
    headers,
    ...(payload === undefined ? {} : { body: payload }),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  // (a HEAD answer has a JSON content type and no body)
  const isJson = text !== '' && (res.headers.get('content-type') ?? '').includes('json');
  return { status: res.status, headers: res.headers, body: isJson ? JSON.parse(text) : text, text };
}

/** The `event_id` of a 202 answer (fails the test when there is none). */
export function eventIdOf(res: ApiResponse): string {
  const id = (res.body as { event_id?: unknown } | null)?.event_id;
  if (res.status !== 202 || typeof id !== 'string') {
    throw new Error(`expected 202 with an event_id, got ${res.status} ${res.text}`);
  }
  return id;
}
