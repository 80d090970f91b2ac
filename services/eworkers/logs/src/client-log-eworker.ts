import { LOGS_EWORKER } from '@reten/contracts';
import { defineEworker } from '@reten/eworker';
import { Counter } from '@reten/observability';
import type { Registry } from '@reten/observability';
import { ClientLogSchema } from './client-log-schema';

const LINES_METRIC = 'reten_client_log_lines_total';

/** `reten_client_log_lines_total{level}`, one per registry (one per eworker instance). */
function linesCounter(registry: Registry): Counter<'level'> {
  const existing = registry.getSingleMetric(LINES_METRIC);
  if (existing) return existing as Counter<'level'>;
  return new Counter({
    name: LINES_METRIC,
    help: 'Client log lines stored, by level',
    labelNames: ['level'] as const,
    registers: [registry],
  });
}

/**
 * The client-log eworker: stores each line of a `log:ClientLog` event as a row of
 * `client_log_lines`. A new revision of an event replaces the lines of its older ones.
 */
export const clientLogEworker = defineEworker({
  name: LOGS_EWORKER.name,
  types: LOGS_EWORKER.types,
  schema: ClientLogSchema,
  handle: async (event, ctx) => {
    const { client, logs } = event.data;
    await ctx.db.query(
      'DELETE FROM client_log_lines WHERE tenant_id = $1 AND event_id = $2 AND revision < $3',
      [event.tenantId, event.id, event.revision],
    );
    await ctx.db.query(
      `INSERT INTO client_log_lines
              (tenant_id, event_id, revision, line_no, logged_at, level, message, app_name,
               app_version, browser, browser_version, os, screen_width, screen_height)
       SELECT $1, $2, $3, l.line_no, l.logged_at, l.level, l.message, $4, $5, $6, $7, $8, $9, $10
         FROM unnest($11::int[], $12::timestamptz[], $13::text[], $14::text[])
              AS l(line_no, logged_at, level, message)
       ON CONFLICT (event_id, revision, line_no) DO NOTHING`,
      [
        event.tenantId,
        event.id,
        event.revision,
        client.app_name,
        client.app_version,
        client.browser ?? null,
        client.version ?? null,
        client.os ?? null,
        client.screen_width ?? null,
        client.screen_height ?? null,
        logs.map((_, i) => i),
        logs.map((l) => l.timestamp),
        logs.map((l) => l.level),
        logs.map((l) => l.message),
      ],
    );
    const counter = linesCounter(ctx.registry);
    ctx.afterCommit(() => {
      for (const line of logs) counter.inc({ level: line.level });
    });
  },
});
