import type { Command } from 'commander';
import {
  CreatedWebhookEndpointSchema,
  DeliveryListSchema,
  ReplayResultSchema,
  TestEventResultSchema,
  WebhookDeliverySchema,
  WebhookListSchema,
} from '@reten/contracts';
import { contextOf } from '../context';
import { commaList, positiveInt } from '../option-parsers';
import { parseTime } from '../time-input';

interface CreateOptions {
  url: string;
  types?: string[];
  description?: string;
  rateLimit?: number;
  disabled?: boolean;
}

const path = (id: string, rest = '') => `/api/v1/webhooks/${encodeURIComponent(id)}${rest}`;

/** `reten webhooks …`: the endpoints of `/api/v1/webhooks` and their deliveries. */
export function registerWebhooks(program: Command): void {
  const webhooks = program
    .command('webhooks')
    .description('manage webhook endpoints and their deliveries');

  webhooks
    .command('list')
    .description('webhook endpoints (GET /api/v1/webhooks)')
    .option('-n, --limit <n>', 'endpoints per page (1-100, default 50)', positiveInt)
    .option('-c, --cursor <cursor>', 'next_cursor of the previous page')
    .action(async (options: { limit?: number; cursor?: string }, command: Command) => {
      const { api, out } = contextOf(command);
      const answer = await api.request('GET', '/api/v1/webhooks', WebhookListSchema, {
        query: { limit: options.limit, cursor: options.cursor },
      });
      if (out.json) return out.jsonLine(answer.raw);
      out.table(answer.data.data, [
        { header: 'id', cell: (w) => w.id },
        { header: 'url', cell: (w) => w.url },
        { header: 'types', cell: (w) => (w.event_types.length ? w.event_types.join(',') : '*') },
        { header: 'enabled', cell: (w) => (w.enabled ? 'yes' : `no (${w.disabled_reason})`) },
        { header: 'created', cell: (w) => w.created_at },
      ]);
      if (answer.data.next_cursor) out.note(`more: --cursor ${answer.data.next_cursor}`);
    });

  webhooks
    .command('create')
    .description('register an endpoint; prints its signing secret, shown only this once')
    .requiredOption('-u, --url <url>', 'where to POST events (https, or http where allowed)')
    .option(
      '-t, --types <types>',
      'comma-separated types or wildcards (default: every type)',
      commaList,
    )
    .option('--description <text>', 'what the endpoint is for')
    .option('--rate-limit <n>', 'events per second at most (default 100)', positiveInt)
    .option('--disabled', 'create it disabled')
    .action(async (options: CreateOptions, command: Command) => {
      const { api, out } = contextOf(command);
      const body = {
        url: options.url,
        ...(options.types ? { event_types: options.types } : {}),
        ...(options.description !== undefined ? { description: options.description } : {}),
        ...(options.rateLimit !== undefined ? { rate_limit_per_second: options.rateLimit } : {}),
        ...(options.disabled ? { enabled: false } : {}),
      };
      const answer = await api.request('POST', '/api/v1/webhooks', CreatedWebhookEndpointSchema, {
        body: JSON.stringify(body),
      });
      if (out.json) return out.jsonLine(answer.raw);
      const w = answer.data;
      out.fields([
        ['id', w.id],
        ['url', w.url],
        ['types', w.event_types.length ? w.event_types.join(',') : '*'],
        ['enabled', w.enabled],
        ['secret', w.secret ?? w.public_key],
      ]);
      out.note('The secret is shown only now: store it where your receiver reads it.');
    });

  webhooks
    .command('test')
    .description('send a reten.test event to this endpoint only, now')
    .argument('<webhook-id>', 'wh_…')
    .action(async (id: string, _options: unknown, command: Command) => {
      const { api, out } = contextOf(command);
      const answer = await api.request('POST', path(id, '/test'), TestEventResultSchema);
      if (out.json) return out.jsonLine(answer.raw);
      out.line(answer.data.event_id);
    });

  webhooks
    .command('deliveries')
    .description("an endpoint's deliveries, newest first, with their last attempt")
    .argument('<webhook-id>', 'wh_…')
    .option('--status <status>', 'pending, succeeded, retrying or failed')
    .option('-n, --limit <n>', 'deliveries per page (1-100, default 50)', positiveInt)
    .option('-c, --cursor <cursor>', 'next_cursor of the previous page')
    .action(
      async (
        id: string,
        options: { status?: string; limit?: number; cursor?: string },
        command: Command,
      ) => {
        const { api, out } = contextOf(command);
        const answer = await api.request('GET', path(id, '/deliveries'), DeliveryListSchema, {
          query: { status: options.status, limit: options.limit, cursor: options.cursor },
        });
        if (out.json) return out.jsonLine(answer.raw);
        out.table(answer.data.data, [
          { header: 'id', cell: (d) => d.id },
          { header: 'event id', cell: (d) => d.event_id },
          { header: 'type', cell: (d) => d.event_type },
          { header: 'status', cell: (d) => d.status },
          { header: 'attempts', cell: (d) => d.attempts },
          { header: 'code', cell: (d) => d.last_status_code },
          { header: 'latency', cell: (d) => latency(d.attempt_log.at(-1)?.latency_ms) },
          { header: 'last attempt', cell: (d) => d.last_attempt_at },
          { header: 'error', cell: (d) => d.last_error },
        ]);
        if (answer.data.next_cursor) out.note(`more: --cursor ${answer.data.next_cursor}`);
      },
    );

  webhooks
    .command('retry')
    .description('queue one more attempt of a delivery, whatever its state')
    .argument('<delivery-id>', 'dlv_…')
    .action(async (id: string, _options: unknown, command: Command) => {
      const { api, out } = contextOf(command);
      const answer = await api.request(
        'POST',
        `/api/v1/deliveries/${encodeURIComponent(id)}/retry`,
        WebhookDeliverySchema,
      );
      if (out.json) return out.jsonLine(answer.raw);
      out.line(`${answer.data.id} ${answer.data.status}`);
    });

  webhooks
    .command('replay')
    .description('re-send the deliveries of events since a time, in event order')
    .argument('<webhook-id>', 'wh_…')
    .requiredOption('-s, --since <time>', 'ISO 8601, or a duration ago (30s, 15m, 2h, 7d)')
    .option('--failed-only', 'only deliveries that ended failed')
    .action(
      async (id: string, options: { since: string; failedOnly?: boolean }, command: Command) => {
        const { api, out } = contextOf(command);
        const body = {
          since: parseTime(options.since, '--since'),
          failed_only: options.failedOnly ?? false,
        };
        const answer = await api.request('POST', path(id, '/replay'), ReplayResultSchema, {
          body: JSON.stringify(body),
        });
        if (out.json) return out.jsonLine(answer.raw);
        out.line(`queued ${answer.data.queued}`);
      },
    );
}

function latency(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : `${ms} ms`;
}
