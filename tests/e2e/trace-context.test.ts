import path from 'node:path';
import { createTestSchema, createTestVhost, eventually, webhookReceiver } from '@reten/testing';
import type {
  ReceivedRequest,
  ServiceProcess,
  TestSchema,
  TestVhost,
  WebhookReceiver,
} from '@reten/testing';
import { api, eventIdOf } from '../../services/gateway/src/test-api';
import { createApiKey, startGatewayProcess } from './gateway-process';
import type { GatewayProcess } from './gateway-process';
import { deliveryRedisPrefix, startDeliveryProcess } from './delivery-process';
import type { DeliveryProcess } from './delivery-process';
import { startEworkerProcess } from './eworker-process';

jest.setTimeout(120_000);

const EWORKER_SCRIPT = path.join(__dirname, 'fixtures', 'trace-eworker.js');
const TYPE = 'order.traced';
const TRACEPARENT_RE = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** A new random W3C trace id and the producer's traceparent that starts it. */
function producerTrace(): { traceId: string; spanId: string; traceparent: string } {
  const hex = (n: number) =>
    Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join('');
  const traceId = hex(32);
  const spanId = hex(16);
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

function parseTraceparent(value: string | undefined): { traceId: string; spanId: string } {
  const m = TRACEPARENT_RE.exec(value ?? '');
  if (!m?.[1] || !m[2]) throw new Error(`not a traceparent: ${String(value)}`);
  return { traceId: m[1], spanId: m[2] };
}

interface Stack {
  schema: TestSchema;
  vhost: TestVhost;
  gateway: GatewayProcess;
  delivery: DeliveryProcess;
  eworker: ServiceProcess;
  receiver: WebhookReceiver;
  gw: { url: string; apiKey: string };
}

/** Gateway (with its relay), delivery and the trace eworker as processes, with `env` added. */
async function startStack(title: string, env: Record<string, string>): Promise<Stack> {
  const schema = await createTestSchema(title);
  const vhost = await createTestVhost(title);
  await schema.pool.query(
    `CREATE TABLE trace_seen (event_id text, trace_id text, span_id text, traceparent text,
                             active_span_id text)`,
  );
  const gateway = await startGatewayProcess(schema, vhost, {
    WEBHOOK_ALLOW_PRIVATE: 'true',
    ...env,
  });
  const gw = { url: gateway.url, apiKey: await createApiKey(schema) };
  const delivery = await startDeliveryProcess(schema, vhost, deliveryRedisPrefix(title), env);
  const eworker = await startEworkerProcess(EWORKER_SCRIPT, { schema, vhost }, env);
  const receiver = await webhookReceiver();
  return { schema, vhost, gateway, delivery, eworker, receiver, gw };
}

async function stopStack(stack: Stack | undefined): Promise<void> {
  if (!stack) return;
  await stack.eworker.kill('SIGTERM');
  await stack.delivery.process.kill('SIGTERM');
  await stack.gateway.process.kill('SIGTERM');
  await stack.receiver.close();
  await stack.schema.drop();
  await stack.vhost.drop();
}

async function registerWebhook(stack: Stack, hookPath: string): Promise<string> {
  const res = await api(stack.gw, 'POST', '/api/v1/webhooks', {
    url: stack.receiver.url(hookPath),
    event_types: [TYPE],
  });
  expect(res.status).toBe(201);
  return (res.body as { id: string }).id;
}

async function sendTraced(stack: Stack, traceparent: string, n: number): Promise<string> {
  const res = await api(
    stack.gw,
    'POST',
    `/v1.0/event/${TYPE}`,
    { n },
    { headers: { traceparent, tracestate: 'producer=1' } },
  );
  expect(res.status).toBe(202);
  return eventIdOf(res);
}

async function handlerSaw(
  stack: Stack,
  eventId: string,
): Promise<{ trace_id: string; span_id: string; traceparent: string; active_span_id: string }> {
  return eventually(async () => {
    const res = await stack.schema.pool.query<{
      trace_id: string;
      span_id: string;
      traceparent: string;
      active_span_id: string;
    }>(
      'SELECT trace_id, span_id, traceparent, active_span_id FROM trace_seen WHERE event_id = $1',
      [eventId],
    );
    const [row] = res.rows;
    if (!row) throw new Error('not handled yet');
    return row;
  });
}

describe('W3C trace context end to end, no span exporter', () => {
  let stack: Stack | undefined;

  beforeAll(async () => {
    stack = await startStack('e2e trace context', {});
  });

  afterAll(async () => {
    await stopStack(stack);
  });

  it('follows the producer trace id to every webhook attempt (first, retry, manual retry, replay) and to the eworker handler', async () => {
    const s = stack!;
    const producer = producerTrace();
    // the first attempt fails: the automatic retry must carry the trace too
    s.receiver.respond((_req: ReceivedRequest, index: number) => ({
      status: index === 0 ? 500 : 204,
    }));
    const webhookId = await registerWebhook(s, '/traced');
    const eventId = await sendTraced(s, producer.traceparent, 1);

    const attempts = await eventually(() => {
      const got = s.receiver.requestsTo('/traced');
      if (got.length < 2) throw new Error(`${got.length} attempts so far`);
      return got;
    });
    const first = parseTraceparent(attempts[0]?.headers.traceparent);
    const retry = parseTraceparent(attempts[1]?.headers.traceparent);
    expect(first.traceId).toBe(producer.traceId);
    expect(retry.traceId).toBe(producer.traceId);
    // each attempt is a span of its own, neither the producer's
    expect(new Set([first.spanId, retry.spanId, producer.spanId]).size).toBe(3);
    expect(attempts[0]?.headers.tracestate).toBe('producer=1');

    // the eworker handler continued the same trace, in a span of its own that is the active one
    const seen = await handlerSaw(s, eventId);
    expect(seen.trace_id).toBe(producer.traceId);
    expect(parseTraceparent(seen.traceparent)).toEqual({
      traceId: producer.traceId,
      spanId: seen.span_id,
    });
    expect(seen.active_span_id).toBe(seen.span_id);
    expect([first.spanId, retry.spanId, producer.spanId]).not.toContain(seen.span_id);

    // the event's status shows the trace it was stored with: the gateway's ingest span
    const event = await api(s.gw, 'GET', `/api/v1/events/${eventId}`);
    const stored = parseTraceparent((event.body as { traceparent: string }).traceparent);
    expect(stored.traceId).toBe(producer.traceId);
    expect(stored.spanId).not.toBe(producer.spanId);
    expect(event.body).toMatchObject({ tracestate: 'producer=1', trace_id: producer.traceId });

    // a manual retry loads the event from PostgreSQL: its attempt continues the trace as well
    const deliveries = await api(s.gw, 'GET', `/api/v1/webhooks/${webhookId}/deliveries`);
    const deliveryId = (deliveries.body as { data: { id: string }[] }).data[0]?.id;
    await eventually(async () => {
      const d = await api(s.gw, 'GET', `/api/v1/webhooks/${webhookId}/deliveries`);
      expect((d.body as { data: { status: string }[] }).data[0]?.status).toBe('succeeded');
    });
    const manual = await api(s.gw, 'POST', `/api/v1/deliveries/${deliveryId}/retry`, {});
    expect(manual.status).toBeLessThan(300);
    const third = await eventually(() => {
      const r = s.receiver.requestsTo('/traced')[2];
      if (!r) throw new Error('manual retry not received yet');
      return r;
    });
    const manualAttempt = parseTraceparent(third.headers.traceparent);
    expect(manualAttempt.traceId).toBe(producer.traceId);
    expect([first.spanId, retry.spanId]).not.toContain(manualAttempt.spanId);

    // so does a replay of the endpoint, once the manual retry has ended
    await eventually(async () => {
      const d = await api(s.gw, 'GET', `/api/v1/webhooks/${webhookId}/deliveries`);
      expect((d.body as { data: { attempts: number }[] }).data[0]?.attempts).toBe(3);
    });
    const replay = await api(s.gw, 'POST', `/api/v1/webhooks/${webhookId}/replay`, {
      since: new Date(Date.now() - 3_600_000).toISOString(),
    });
    expect(replay.status).toBeLessThan(300);
    const fourth = await eventually(() => {
      const r = s.receiver.requestsTo('/traced')[3];
      if (!r) throw new Error('replay not received yet');
      return r;
    });
    expect(parseTraceparent(fourth.headers.traceparent).traceId).toBe(producer.traceId);
  });

  it('starts a new trace for an event sent without traceparent and carries it everywhere', async () => {
    const s = stack!;
    s.receiver.respond({ status: 204 });
    await registerWebhook(s, '/untraced');
    const res = await api(s.gw, 'POST', `/v1.0/event/${TYPE}`, { n: 2 });
    const eventId = eventIdOf(res);
    const event = await api(s.gw, 'GET', `/api/v1/events/${eventId}`);
    const stored = parseTraceparent((event.body as { traceparent: string }).traceparent);
    const request = await eventually(() => {
      const r = s.receiver.requestsTo('/untraced')[0];
      if (!r) throw new Error('not delivered yet');
      return r;
    });
    expect(parseTraceparent(request.headers.traceparent).traceId).toBe(stored.traceId);
    expect((await handlerSaw(s, eventId)).trace_id).toBe(stored.traceId);
  });
});

interface OtlpSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
}

interface OtlpRequest {
  resourceSpans?: {
    resource?: { attributes?: { key: string; value: { stringValue?: string } }[] };
    scopeSpans?: { spans?: OtlpSpan[] }[];
  }[];
}

describe('W3C trace context end to end, spans exported over OTLP/HTTP', () => {
  let stack: Stack | undefined;
  let collector: WebhookReceiver | undefined;

  beforeAll(async () => {
    collector = await webhookReceiver();
    collector.respond({ status: 200, body: '{}', headers: { 'content-type': 'application/json' } });
    stack = await startStack('e2e trace otlp', {
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url(''),
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
  });

  afterAll(async () => {
    await stopStack(stack);
    await collector?.close();
  });

  function exported(): (OtlpSpan & { service: string | undefined })[] {
    return (collector?.requestsTo('/v1/traces') ?? []).flatMap((r) => {
      const body = JSON.parse(r.rawBody) as OtlpRequest;
      return (body.resourceSpans ?? []).flatMap((rs) => {
        const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value
          .stringValue;
        return (rs.scopeSpans ?? []).flatMap((ss) =>
          (ss.spans ?? []).map((span) => ({ ...span, service })),
        );
      });
    });
  }

  it('sends the stage spans of one event, every one in the producer trace, to <endpoint>/v1/traces', async () => {
    const s = stack!;
    s.receiver.respond({ status: 204 });
    await registerWebhook(s, '/exported');
    const producer = producerTrace();
    const eventId = await sendTraced(s, producer.traceparent, 3);
    await handlerSaw(s, eventId);

    const spans = await eventually(
      () => {
        const mine = exported().filter((span) => span.traceId === producer.traceId);
        const names = new Set(mine.map((span) => span.name));
        for (const stage of [
          'ingest',
          'commit',
          'relay publish',
          'eworker handle',
          'delivery attempt',
        ]) {
          if (!names.has(stage))
            throw new Error(`no '${stage}' span yet: ${[...names].join(', ')}`);
        }
        return mine;
      },
      { timeoutMs: 30_000 },
    );
    const byName = (name: string) => spans.find((span) => span.name === name);
    const ingest = byName('ingest');
    // the ingest span continues the producer's span; every later stage is a child of it
    expect(ingest?.parentSpanId).toBe(producer.spanId);
    for (const stage of ['commit', 'relay publish', 'eworker handle', 'delivery attempt']) {
      expect(byName(stage)?.parentSpanId).toBe(ingest?.spanId);
    }
    expect(byName('ingest')?.service).toBe('gateway');
    expect(byName('delivery attempt')?.service).toBe('delivery');
    expect(byName('eworker handle')?.service).toBe('eworker-trace-test');
    // the webhook request carries the delivery attempt span's context
    const request = s.receiver.requestsTo('/exported')[0];
    expect(parseTraceparent(request?.headers.traceparent).spanId).toBe(
      byName('delivery attempt')?.spanId,
    );
  });
});
