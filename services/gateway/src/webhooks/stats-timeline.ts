import type { Pool } from 'pg';
import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { ErrorEnvelopeSchema, RetenError, WebhookIdSchema } from '@reten/contracts';
import { parseOrThrow } from '@reten/http';
import { AttemptTimelineRepo } from '@reten/store';
import { tenantOf } from '../tenant';
import type { RouteHandlers } from '../api-route';

/** Most buckets one answer holds: a chart of a day by the minute is 1,440, more is noise. */
export const MAX_TIMELINE_BUCKETS = 1440;

export const WebhookTimelineQuerySchema = z
  .object({
    since: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('Start of the first bucket (default: 24 hours before `until`)'),
    until: z.iso.datetime({ offset: true }).optional().describe('End (default: now)'),
    bucket_seconds: z.coerce
      .number()
      .int()
      .min(60)
      .max(86_400)
      .default(3600)
      .describe('Width of one bucket, in seconds'),
  })
  .meta({ id: 'WebhookTimelineQuery' });

const TimelineBucketSchema = z.object({
  start: z.iso.datetime({ offset: true }),
  attempts: z.number().int(),
  succeeded: z.number().int(),
  failed: z.number().int(),
});

export const WebhookTimelineSchema = z
  .object({
    since: z.iso.datetime({ offset: true }),
    until: z.iso.datetime({ offset: true }),
    bucket_seconds: z.number().int(),
    buckets: z.array(TimelineBucketSchema).describe('Every bucket of the range, empty ones too'),
  })
  .meta({ id: 'WebhookTimeline' });
export type WebhookTimeline = z.infer<typeof WebhookTimelineSchema>;

/**
 * Delivery attempts of one endpoint counted per time bucket (for the console's chart): the
 * counts come from the store's `AttemptTimelineRepo`; this fills in the empty buckets.
 */
export class WebhookTimelineRepo {
  private readonly attempts: AttemptTimelineRepo;

  constructor(pool: Pool) {
    this.attempts = new AttemptTimelineRepo(pool);
  }

  /** `undefined` when the endpoint is not the tenant's. */
  async timeline(
    tenantId: string,
    endpointId: string,
    range: { since: Date; until: Date; bucketSeconds: number },
  ): Promise<WebhookTimeline | undefined> {
    const counts = await this.attempts.countsByBucket(tenantId, endpointId, range);
    if (!counts) return undefined;
    const sinceMs = range.since.getTime();
    const count = Math.ceil((range.until.getTime() - sinceMs) / (range.bucketSeconds * 1000));
    const buckets = Array.from({ length: count }, (_, i) => ({
      start: new Date(sinceMs + i * range.bucketSeconds * 1000).toISOString(),
      attempts: 0,
      succeeded: 0,
      failed: 0,
    }));
    for (const c of counts) {
      const bucket = buckets[c.index];
      if (!bucket) continue;
      bucket.attempts = c.attempts;
      bucket.succeeded = c.succeeded;
      bucket.failed = c.attempts - c.succeeded;
    }
    return {
      since: range.since.toISOString(),
      until: range.until.toISOString(),
      bucket_seconds: range.bucketSeconds,
      buckets,
    };
  }
}

const TimelineParamsSchema = z.object({ id: WebhookIdSchema });

/** `GET /api/v1/webhooks/{id}/stats/timeline`: attempts, successes and failures per bucket. */
export function webhookTimelineHandlers(repo: WebhookTimelineRepo): RouteHandlers {
  const routes: RouteHandlers = {};
  routes.getWebhookTimeline = [
    async (req, res) => {
      const params = TimelineParamsSchema.safeParse(req.params);
      const notFound = () =>
        new RetenError('not_found', `No webhook with id ${String(req.params.id)}`);
      if (!params.success) throw notFound();
      const query = parseOrThrow(WebhookTimelineQuerySchema, req.query, 'query');
      const until = query.until ? new Date(query.until) : new Date();
      const since = query.since ? new Date(query.since) : new Date(until.getTime() - 86_400_000);
      const span = until.getTime() - since.getTime();
      if (span <= 0) {
        throw new RetenError('validation_failed', 'since must be before until', [
          { path: 'query.since', message: 'must be before until' },
        ]);
      }
      if (span / (query.bucket_seconds * 1000) > MAX_TIMELINE_BUCKETS) {
        throw new RetenError('validation_failed', 'Too many buckets', [
          {
            path: 'query.bucket_seconds',
            message: `the range holds more than ${MAX_TIMELINE_BUCKETS} buckets: widen them or shorten the range`,
          },
        ]);
      }
      const timeline = await repo.timeline(tenantOf(req), params.data.id, {
        since,
        until,
        bucketSeconds: query.bucket_seconds,
      });
      if (!timeline) throw notFound();
      res.json(timeline);
    },
  ];
  return routes;
}

/** The OpenAPI operation of the timeline (merged into the gateway's document). */
export const webhookTimelinePaths: ZodOpenApiPathsObject = {
  '/api/v1/webhooks/{id}/stats/timeline': {
    get: {
      operationId: 'getWebhookTimeline',
      summary: 'Delivery attempts of the endpoint per time bucket: succeeded and failed',
      requestParams: { path: TimelineParamsSchema, query: WebhookTimelineQuerySchema },
      responses: {
        '200': {
          description: 'Every bucket of the range',
          content: { 'application/json': { schema: WebhookTimelineSchema } },
        },
        '404': {
          description: '`not_found`: no such webhook for the caller’s tenant',
          content: { 'application/json': { schema: ErrorEnvelopeSchema } },
        },
        '422': {
          description: '`validation_failed`: bad range or bucket width',
          content: { 'application/json': { schema: ErrorEnvelopeSchema } },
        },
      },
    },
  },
};
