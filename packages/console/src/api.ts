import createClient from 'openapi-fetch';
import type { components, paths } from './generated/api';

export type Schemas = components['schemas'];
export type ApiError = Schemas['Error']['error'];

/** Longest wait for one API call: the console says so instead of spinning forever. */
const REQUEST_TIMEOUT_MS = 15_000;

/** The typed client of the gateway's public API, signed in with `credential`. */
export function apiClient(credential: string) {
  const client = createClient<paths>({
    baseUrl: location.origin,
    fetch: (request) =>
      fetch(new Request(request, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })),
  });
  client.use({
    onRequest({ request }) {
      request.headers.set('Authorization', `Bearer ${credential}`);
      return request;
    },
  });
  return client;
}

export type Api = ReturnType<typeof apiClient>;

/** A refused or failed call, carrying the API's error envelope. */
export class ApiFailure extends Error {
  constructor(readonly envelope: ApiError) {
    super(envelope.message);
  }
}

/** The error envelope of an answer, or one made up for a network failure. */
export function errorOf(error: unknown, response?: Response): ApiError {
  if (error instanceof ApiFailure) return error.envelope;
  const envelope = (error as { error?: ApiError } | undefined)?.error;
  if (envelope && typeof envelope.code === 'string') return envelope;
  if (error instanceof Error) {
    return { code: 'service_unavailable', message: error.message, status: 0 };
  }
  return {
    code: 'internal_error',
    message: `Unexpected answer${response ? ` (HTTP ${response.status})` : ''}`,
    status: response?.status ?? 0,
  };
}

/** Unwraps an openapi-fetch result: the data, or throws the error envelope. */
export async function call<T>(
  request: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await request;
  } catch (err) {
    throw new ApiFailure(errorOf(err));
  }
  if (result.error !== undefined || !result.response.ok) {
    throw new ApiFailure(errorOf(result.error, result.response));
  }
  return result.data as T;
}
