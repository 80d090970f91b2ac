import type { z } from 'zod';
import { RetenError } from '@reten/contracts';
import type { ErrorDetail } from '@reten/contracts';

/** Zod issues → `details: [{path, message}]` with the location prefixed (`body.event_type`). */
export function issuesToDetails(location: string, issues: z.core.$ZodIssue[]): ErrorDetail[] {
  return issues.map((issue) => ({
    path: [location, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
}

/** Parses `value` or throws 422 `validation_failed` naming each failing field. */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  location: 'body' | 'query' | 'params' | 'headers',
): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const details = issuesToDetails(location, result.error.issues);
  const first = details[0];
  throw new RetenError(
    'validation_failed',
    first ? `Invalid ${first.path}: ${first.message}` : `Invalid ${location}`,
    details,
  );
}
