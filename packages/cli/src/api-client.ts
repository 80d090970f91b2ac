import { ErrorEnvelopeSchema } from '@reten/contracts';
import type { z } from 'zod';
import { ApiError } from './exit-codes';
import { networkErrorOf } from './network-error';

export interface RequestOptions {
  /** JSON text sent as the body, exactly as given. */
  body?: string;
  headers?: Record<string, string>;
  query?: Record<string, string | number | boolean | undefined>;
}

/** A successful answer: the parsed body for printing tables, the raw JSON for `--json`. */
export interface ApiAnswer<T> {
  status: number;
  data: T;
  raw: unknown;
}

/**
 * The HTTP API as the CLI uses it: bearer key, a bound on every request (body included), the
 * error envelope turned into `ApiError`, answers checked against the schemas of
 * `@reten/contracts` so a change in the API fails here rather than printing garbage.
 */
export class ApiClient {
  constructor(private readonly options: { apiUrl: string; apiKey: string; timeoutMs: number }) {}

  /** A request whose answer body is checked against `schema`. */
  async request<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S,
    options: RequestOptions = {},
  ): Promise<ApiAnswer<z.infer<S>>> {
    const { status, raw, text } = await this.exchange(method, path, options);
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      throw new ApiError(
        'unexpected_response',
        `${method} ${path} answered ${status} with a body this CLI does not understand: ${text.slice(0, 200)}`,
        status,
      );
    }
    return { status, data: parsed.data, raw };
  }

  /** A request answered without a body (204). */
  async requestNoContent(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<void> {
    await this.exchange(method, path, options);
  }

  private async exchange(
    method: string,
    path: string,
    options: RequestOptions,
  ): Promise<{ status: number; raw: unknown; text: string }> {
    const url = new URL(`${this.options.apiUrl}${path}`);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.options.apiKey}`,
      accept: 'application/json',
      ...options.headers,
    };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let status: number;
    let text: string;
    try {
      // one signal bounds the connection, the headers and the body
      const res = await fetch(url, {
        method,
        headers,
        ...(options.body === undefined ? {} : { body: options.body }),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      throw networkErrorOf(err, url.origin, this.options.timeoutMs);
    }
    const raw = parseJson(text);
    if (status >= 400) throw apiErrorOf(status, raw, text);
    return { status, raw, text };
  }
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function apiErrorOf(status: number, raw: unknown, text: string): ApiError {
  const envelope = ErrorEnvelopeSchema.safeParse(raw);
  if (envelope.success) {
    const { code, message, details } = envelope.data.error;
    return new ApiError(code, message, status, details ?? []);
  }
  // not from Reten (a proxy in between, or the wrong URL): show what came back
  return new ApiError('unexpected_response', text.slice(0, 200) || '(empty body)', status);
}
