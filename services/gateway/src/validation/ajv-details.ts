import type { ErrorObject } from 'ajv';
import { MAX_TIMESTAMP, MIN_TIMESTAMP } from '@reten/contracts';
import type { ErrorDetail } from '@reten/contracts';

/** Ajv's message, made to say what a valid value is where Ajv's does not. */
function messageOf(e: ErrorObject): string {
  if (e.keyword === 'format' && (e.params as { format?: unknown }).format === 'date-time') {
    return `must be an RFC 3339 date-time between ${MIN_TIMESTAMP} and ${MAX_TIMESTAMP}`;
  }
  return e.message ?? 'is invalid';
}

/** `/logs/0/level` → `logs.0.level` (JSON Pointer unescaped). */
function pointerToPath(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/**
 * Ajv errors → `details: [{path, message}]`, the path prefixed with where the data sits in the
 * request (`body` for EVCI, `body.data` for the REST API) and naming the missing or unknown
 * property itself rather than its parent.
 */
export function ajvErrorsToDetails(location: string, errors: ErrorObject[]): ErrorDetail[] {
  const seen = new Set<string>();
  const details: ErrorDetail[] = [];
  for (const e of errors) {
    const parts = [location, ...pointerToPath(e.instancePath)];
    const params = e.params as Record<string, unknown>;
    if (e.keyword === 'required' && typeof params.missingProperty === 'string') {
      parts.push(params.missingProperty);
    } else if (
      e.keyword === 'additionalProperties' &&
      typeof params.additionalProperty === 'string'
    ) {
      parts.push(params.additionalProperty);
    }
    const detail = { path: parts.join('.'), message: messageOf(e) };
    const key = `${detail.path}\n${detail.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    details.push(detail);
  }
  return details;
}
