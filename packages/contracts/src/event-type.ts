import { z } from 'zod';

/** Letters, digits, `.`, `:`, `_`, `-`; 1 to 128 characters (e.g. `log:ClientLog`, `order.created`). */
export const EVENT_TYPE_PATTERN = /^[A-Za-z0-9.:_-]{1,128}$/;

export const EventTypeNameSchema = z
  .string()
  .regex(EVENT_TYPE_PATTERN, 'must be 1 to 128 characters of letters, digits, ".", ":", "_" or "-"')
  .meta({ example: 'order.created' });

/** An exact event type or a pattern in which `*` stands for any run of characters (`order.*`). */
export const EventTypeFilterSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9.:_*-]{1,128}$/,
    'must be an event type, optionally with "*" wildcards (e.g. "order.*")',
  );

/** Turns `order.*` into a SQL LIKE pattern (`order.%`), escaping LIKE's own metacharacters. */
export function typeFilterToLike(filter: string): string {
  return filter.replace(/[\\%_]/g, (c) => `\\${c}`).replace(/\*/g, '%');
}

/** Whether an event type matches an exact name or a `*` wildcard pattern. */
export function matchesTypeFilter(type: string, filter: string): boolean {
  if (!filter.includes('*')) return type === filter;
  const re = new RegExp(
    `^${filter
      .split('*')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return re.test(type);
}
