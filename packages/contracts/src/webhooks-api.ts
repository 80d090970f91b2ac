import { z } from 'zod';
import { EventIdSchema } from './envelope';
import { EventTypeFilterSchema, EventTypeNameSchema } from './event-type';
import { TimestampSchema } from './timestamp';

/** Sent by `POST /api/v1/webhooks/{id}/test`, delivered only to that endpoint. */
export const WEBHOOK_TEST_EVENT_TYPE = 'reten.test';
/** Inserted (like any event) when Reten disables an endpoint. */
export const ENDPOINT_DISABLED_EVENT_TYPE = 'reten.endpoint.disabled';

/** Default per-endpoint rate limit (events per second). */
export const DEFAULT_WEBHOOK_RATE_LIMIT = 100;

export const WebhookIdSchema = z
  .string()
  .regex(/^wh_[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a webhook id')
  .meta({ example: 'wh_01J8Z3V6ZV4X3M2N9Q8R7S6T5U' });

export const DeliveryIdSchema = z
  .string()
  .regex(/^dlv_[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a delivery id')
  .meta({ example: 'dlv_01J8Z3V6ZV4X3M2N9Q8R7S6T5U' });

/**
 * Header names Reten sets itself on webhook requests (the signature headers among them, and the
 * attempt's W3C trace context).
 */
const RETEN_SET_HEADER =
  /^(host|content-type|content-length|user-agent|webhook-.*|x-reten-.*|traceparent|tracestate)$/i;

/**
 * Connection-level header names that no custom header may carry: hop-by-hop headers
 * (RFC 9110 §7.6.1, `Proxy-*`), `Expect`, `Upgrade` and `HTTP2-Settings`. The HTTP client
 * owns them (undici refuses `Expect`, `Upgrade`, `Keep-Alive`, `Transfer-Encoding` outright),
 * so an endpoint holding one would fail every delivery.
 */
const CONNECTION_HEADER =
  /^(connection|keep-alive|transfer-encoding|te|trailer|upgrade|expect|http2-settings|proxy-.*)$/i;

/**
 * Every header name an endpoint's custom headers cannot use: the ones Reten sets and the
 * connection-level ones. The delivery service also drops them from rows stored before a name
 * was refused here.
 */
export const RESERVED_WEBHOOK_HEADER = new RegExp(
  `${RETEN_SET_HEADER.source}|${CONNECTION_HEADER.source}`,
  'i',
);

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;

/** Why a custom header name is refused, naming it; undefined when it may be used. */
function headerNameProblem(name: string): string | undefined {
  if (!HEADER_NAME.test(name)) return `${name} must be an HTTP header name`;
  if (RETEN_SET_HEADER.test(name)) return `${name} is set by Reten and cannot be overridden`;
  if (CONNECTION_HEADER.test(name)) {
    return `${name} is a connection-level header that the HTTP client controls and cannot be sent`;
  }
  return undefined;
}

/** Custom request headers: HTTP token names (not ours, not connection-level), printable values. */
export const WebhookHeadersSchema = z
  .record(
    z.string(),
    z
      .string()
      .max(1000)
      .regex(/^[\t\x20-\x7e]*$/, 'must be printable ASCII'),
  )
  .superRefine((headers, ctx) => {
    const names = Object.keys(headers);
    if (names.length > 20) ctx.addIssue({ code: 'custom', message: 'at most 20 headers' });
    for (const name of names) {
      const problem = headerNameProblem(name);
      if (problem) ctx.addIssue({ code: 'custom', path: [name], message: problem });
    }
  })
  .describe(
    'Custom request headers sent with every delivery (at most 20). Refused with 422 naming the header: the ones Reten sets (Host, Content-Type, Content-Length, User-Agent, webhook-*, X-Reten-*) and connection-level ones (Connection, Keep-Alive, Transfer-Encoding, TE, Trailer, Upgrade, Expect, HTTP2-Settings, Proxy-*)',
  );

const RetryScheduleSchema = z
  .array(
    z
      .number()
      .int()
      .min(0)
      .max(7 * 86_400),
  )
  .min(1)
  .max(20)
  .describe(
    'Delay in seconds before each attempt, the first usually 0 (default: 0, 5, 30, 120, 600, 1800, 3600, 10800, 21600, 43200)',
  );

/**
 * What a delivery that finally failed (its retry schedule is spent) does to the later events
 * of its ordering key for the endpoint.
 */
export const OnFailureSchema = z
  .enum(['skip', 'block'])
  .describe(
    'What a delivery of an event with an ordering key that finally failed does to the later events of that key for this endpoint: `skip` (default) sends the next one; `block` holds them until the failed delivery is retried (`POST /api/v1/deliveries/{id}/retry`) and succeeds, or until the endpoint is set back to `skip` (which releases every key it holds)',
  );
export type OnFailure = z.infer<typeof OnFailureSchema>;

export const CreateWebhookRequestSchema = z
  .object({
    url: z.string().max(2048).describe('https URL (http only where the server allows it)'),
    description: z.string().max(500).default(''),
    event_types: z
      .array(EventTypeFilterSchema)
      .max(100)
      .default([])
      .describe('Exact types or wildcards such as `order.*`; empty = every type'),
    enabled: z.boolean().default(true),
    rate_limit_per_second: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .default(DEFAULT_WEBHOOK_RATE_LIMIT)
      .describe(
        'Most requests per second to this endpoint; also sets how many may be in flight at once (enough to reach it against a receiver answering within 200 ms, 20 to 100 by default)',
      ),
    headers: WebhookHeadersSchema.default({}),
    retry_schedule_seconds: RetryScheduleSchema.nullable().default(null),
    signing: z
      .enum(['hmac', 'ed25519'])
      .default('hmac')
      .describe(
        '`hmac`: shared `whsec_` secret (v1); `ed25519`: asymmetric `v1a`, public key published',
      ),
    on_failure: OnFailureSchema.default('skip'),
  })
  .strict()
  .meta({ id: 'CreateWebhookRequest' });
export type CreateWebhookRequest = z.infer<typeof CreateWebhookRequestSchema>;

export const UpdateWebhookRequestSchema = z
  .object({
    url: z.string().max(2048),
    description: z.string().max(500),
    event_types: z.array(EventTypeFilterSchema).max(100),
    enabled: z.boolean().describe('Re-enabling clears `disabled_reason`'),
    rate_limit_per_second: z.number().int().min(1).max(10_000),
    headers: WebhookHeadersSchema,
    retry_schedule_seconds: RetryScheduleSchema.nullable(),
    on_failure: OnFailureSchema,
  })
  .partial()
  .strict()
  .meta({ id: 'UpdateWebhookRequest' });
export type UpdateWebhookRequest = z.infer<typeof UpdateWebhookRequestSchema>;

export const WebhookEndpointSchema = z
  .object({
    id: WebhookIdSchema,
    url: z.string(),
    description: z.string(),
    event_types: z.array(z.string()),
    enabled: z.boolean(),
    disabled_reason: z.string().nullable(),
    rate_limit_per_second: z.number().int(),
    headers: z.record(z.string(), z.string()),
    retry_schedule_seconds: z.array(z.number().int()).nullable(),
    signing: z.enum(['hmac', 'ed25519']),
    public_key: z.string().nullable().describe('`whpk_…` for ed25519 endpoints'),
    on_failure: OnFailureSchema,
    created_at: z.iso.datetime({ offset: true }),
    updated_at: z.iso.datetime({ offset: true }),
  })
  .meta({ id: 'WebhookEndpoint' });
export type WebhookEndpoint = z.infer<typeof WebhookEndpointSchema>;

export const CreatedWebhookEndpointSchema = WebhookEndpointSchema.extend({
  secret: z.string().nullable().describe('`whsec_…`, shown only here and on rotation'),
}).meta({ id: 'CreatedWebhookEndpoint' });
export type CreatedWebhookEndpoint = z.infer<typeof CreatedWebhookEndpointSchema>;

export const WebhookListSchema = z
  .object({ data: z.array(WebhookEndpointSchema), next_cursor: z.string().nullable() })
  .meta({ id: 'WebhookList' });
export type WebhookList = z.infer<typeof WebhookListSchema>;

export const ListWebhooksQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(50),
    cursor: z.string().max(200).optional(),
  })
  .strict();

export const RotateSecretRequestSchema = z
  .object({
    grace_period_seconds: z
      .number()
      .int()
      .min(0)
      .max(7 * 86_400)
      .optional()
      .describe('How long the old secret keeps signing alongside the new one'),
  })
  .strict()
  .meta({ id: 'RotateSecretRequest' });

export const RotatedSecretSchema = z
  .object({
    secret: z.string(),
    previous_secret_expires_at: z.iso.datetime({ offset: true }).nullable(),
  })
  .meta({ id: 'RotatedSecret' });
export type RotatedSecret = z.infer<typeof RotatedSecretSchema>;

export const AttemptPhaseSchema = z
  .enum(['connect', 'headers', 'body', 'status'])
  .describe(
    'Where the attempt failed: connecting (DNS, refused, TLS, SSRF guard), waiting for headers, reading the body, or a non-2xx status',
  );

export const WebhookAttemptSchema = z
  .object({
    attempt: z.number().int().min(1),
    started_at: z.iso.datetime({ offset: true }),
    latency_ms: z.number().int(),
    succeeded: z.boolean(),
    status_code: z.number().int().nullable(),
    phase: AttemptPhaseSchema.nullable(),
    error: z.string().nullable(),
    response_excerpt: z.string().nullable().describe('First KiB of the response body'),
  })
  .meta({ id: 'WebhookAttempt' });
export type WebhookAttempt = z.infer<typeof WebhookAttemptSchema>;

export const DeliveryStatusSchema = z
  .enum(['pending', 'succeeded', 'retrying', 'failed', 'held'])
  .describe(
    '`pending`: no attempt finished yet (a first attempt that ends within a second is listed from its outcome on; a slower one is listed as `pending` while it runs). `held`: waits for an earlier delivery of the same ordering key to this endpoint to succeed or finally fail (no attempt is made meanwhile)',
  );

export const WebhookDeliverySchema = z
  .object({
    id: DeliveryIdSchema,
    webhook_id: WebhookIdSchema,
    event_id: EventIdSchema,
    event_type: EventTypeNameSchema,
    revision: z.number().int().min(1),
    status: DeliveryStatusSchema,
    attempts: z.number().int().min(0),
    last_status_code: z.number().int().nullable(),
    last_error: z.string().nullable(),
    last_attempt_at: z.iso.datetime({ offset: true }).nullable(),
    next_attempt_at: z.iso.datetime({ offset: true }).nullable(),
    created_at: z.iso.datetime({ offset: true }),
    attempt_log: z.array(WebhookAttemptSchema),
  })
  .meta({ id: 'WebhookDelivery' });
export type WebhookDelivery = z.infer<typeof WebhookDeliverySchema>;

export const ListDeliveriesQuerySchema = z
  .object({
    status: DeliveryStatusSchema.optional(),
    limit: z.coerce.number().int().min(1).max(100).default(50),
    cursor: z.string().max(200).optional(),
  })
  .strict();
export type ListDeliveriesQuery = z.infer<typeof ListDeliveriesQuerySchema>;

export const DeliveryListSchema = z
  .object({ data: z.array(WebhookDeliverySchema), next_cursor: z.string().nullable() })
  .meta({ id: 'DeliveryList' });
export type DeliveryList = z.infer<typeof DeliveryListSchema>;

export const ReplayRequestSchema = z
  .object({
    since: TimestampSchema.describe('Events with timestamp ≥ since'),
    failed_only: z.boolean().default(false).describe('Only deliveries that ended `failed`'),
  })
  .strict()
  .meta({ id: 'ReplayRequest' });
export type ReplayRequest = z.infer<typeof ReplayRequestSchema>;

export const ReplayResultSchema = z
  .object({
    queued: z.number().int().min(0).describe('Deliveries queued, sent in event order'),
    retained_since: z
      .string()
      .optional()
      .describe(
        "Present when `since` is before the tenant's events retention window: events created before this instant were removed by retention and are not replayed",
      ),
    notice: z
      .string()
      .optional()
      .describe('Why fewer events than asked for may be replayed (retention), for people'),
  })
  .meta({ id: 'ReplayResult' });
export type ReplayResult = z.infer<typeof ReplayResultSchema>;

export const WebhookStatsSchema = z
  .object({
    attempts: z
      .number()
      .int()
      .describe('Attempts since the endpoint was created (retention does not reduce the count)'),
    succeeded: z.number().int(),
    failed: z.number().int(),
    success_rate: z.number().nullable().describe('succeeded / attempts, null without attempts'),
    latency_p50_ms: z.number().nullable().describe('Median latency of the latest 1,000 attempts'),
    latency_p99_ms: z.number().nullable().describe('99th percentile of the latest 1,000 attempts'),
    deliveries_failed: z
      .number()
      .int()
      .describe('Deliveries that ended `failed` (and were not retried since)'),
    last_error: z.string().nullable(),
    last_error_at: z.iso.datetime({ offset: true }).nullable(),
  })
  .meta({ id: 'WebhookStats' });
export type WebhookStats = z.infer<typeof WebhookStatsSchema>;

export const TestEventResultSchema = z
  .object({ event_id: EventIdSchema })
  .meta({ id: 'TestEventResult' });
