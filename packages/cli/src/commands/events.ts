import type { Command } from 'commander';
import { EventDetailSchema, EventListSchema } from '@reten/contracts';
import type { EventDetail } from '@reten/contracts';
import { contextOf } from '../context';
import type { Output } from '../output';
import { positiveInt } from '../option-parsers';
import { parseTime } from '../time-input';

interface ListOptions {
  type?: string;
  since?: string;
  until?: string;
  limit?: number;
  cursor?: string;
}

/** `reten events list|get`: `GET /api/v1/events` and `GET /api/v1/events/{id}`. */
export function registerEvents(program: Command): void {
  const events = program.command('events').description('list and inspect stored events');

  events
    .command('list')
    .description('list events, newest first (GET /api/v1/events)')
    .option('-t, --type <type>', 'exact type or wildcard, e.g. order.*')
    .option('-s, --since <time>', 'from this time: ISO 8601, or a duration ago (30s, 15m, 2h, 7d)')
    .option('-u, --until <time>', 'before this time (same forms as --since)')
    .option('-n, --limit <n>', 'events per page (1-500, default 100)', positiveInt)
    .option('-c, --cursor <cursor>', 'next_cursor of the previous page')
    .action(async (options: ListOptions, command: Command) => {
      const { api, out } = contextOf(command);
      const answer = await api.request('GET', '/api/v1/events', EventListSchema, {
        query: {
          type: options.type,
          since: options.since === undefined ? undefined : parseTime(options.since, '--since'),
          until: options.until === undefined ? undefined : parseTime(options.until, '--until'),
          limit: options.limit,
          cursor: options.cursor,
        },
      });
      if (out.json) {
        out.jsonLine(answer.raw);
        return;
      }
      out.table(answer.data.data, [
        { header: 'event id', cell: (e) => e.event_id },
        { header: 'type', cell: (e) => e.event_type },
        { header: 'rev', cell: (e) => e.revision },
        { header: 'key', cell: (e) => e.ordering_key },
        { header: 'timestamp', cell: (e) => e.timestamp },
        { header: 'data', cell: (e) => truncate(JSON.stringify(e.data), 60) },
      ]);
      if (answer.data.next_cursor) out.note(`more: --cursor ${answer.data.next_cursor}`);
    });

  events
    .command('get')
    .description('one event with its processing status per eworker and per webhook')
    .argument('<id>', 'event id (evt_…)')
    .action(async (id: string, _options: unknown, command: Command) => {
      const { api, out } = contextOf(command);
      const answer = await api.request(
        'GET',
        `/api/v1/events/${encodeURIComponent(id)}`,
        EventDetailSchema,
      );
      if (out.json) out.jsonLine(answer.raw);
      else printEvent(out, answer.data);
    });
}

function printEvent(out: Output, event: EventDetail): void {
  out.fields([
    ['event id', event.event_id],
    ['type', event.event_type],
    ['revision', event.revision],
    ['ordering key', event.ordering_key],
    ['timestamp', event.timestamp],
    ['received', event.received_at],
    ['published', event.published_at ?? 'not yet'],
    // the trace context the revision was accepted under: look the trace id up in a tracing backend
    ['trace id', event.trace_id],
    ['traceparent', event.traceparent],
    ['tracestate', event.tracestate],
  ]);
  out.line('');
  out.line('data');
  out.line(JSON.stringify(event.data, null, 2));
  out.line('');
  out.line('eworkers');
  out.table(event.eworkers, [
    { header: 'eworker', cell: (w) => w.eworker },
    { header: 'rev', cell: (w) => w.revision },
    { header: 'status', cell: (w) => w.status },
    { header: 'attempts', cell: (w) => w.attempts },
    { header: 'last error', cell: (w) => w.last_error },
  ]);
  out.line('');
  out.line('webhooks');
  out.table(event.webhooks, [
    { header: 'delivery', cell: (d) => d.delivery_id },
    { header: 'webhook', cell: (d) => d.webhook_id },
    { header: 'status', cell: (d) => d.status },
    { header: 'attempts', cell: (d) => d.attempts },
    { header: 'code', cell: (d) => d.last_status_code },
    { header: 'url', cell: (d) => d.url },
  ]);
}

/** Long text cut to `max` characters with an ellipsis, for table cells. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
