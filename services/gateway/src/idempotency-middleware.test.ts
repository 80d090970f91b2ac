import { eventually } from '@reten/testing';
import { startTestGateway } from './test-fixture';
import type { TestGateway } from './test-fixture';
import { api } from './test-api';

/** The code of an error answer. */
const codeOf = (body: unknown) => (body as { error?: { code?: string } }).error?.code;

describe('Idempotency-Key on a route the middleware covers (webhook replay)', () => {
  let gw: TestGateway;
  let endpointId: string;

  beforeAll(async () => {
    gw = await startTestGateway('idempotency middleware', {
      env: { WEBHOOK_ALLOW_PRIVATE: 'true' },
    });
    const created = await api(gw, 'POST', '/api/v1/webhooks', {
      url: 'http://127.0.0.1:9/idempotent-replay',
    });
    expect(created.status).toBe(201);
    endpointId = (created.body as { id: string }).id;
    for (const n of [1, 2]) {
      expect((await api(gw, 'POST', '/v1.0/event/order.created', { n })).status).toBe(202);
    }
  });

  afterAll(async () => {
    await gw?.close();
  });

  /** Replay sends published events only: wait until the relay published every event. */
  const allPublished = () =>
    eventually(async () => {
      const { rows } = await gw.schema.pool.query<{ n: string }>(
        'SELECT count(*) AS n FROM outbox',
      );
      expect(rows[0]?.n).toBe('0');
    });
  const replay = (body: unknown, key?: string) =>
    api(gw, 'POST', `/api/v1/webhooks/${endpointId}/replay`, body, {
      headers: key === undefined ? {} : { 'idempotency-key': key },
    });
  const since = new Date(Date.now() - 3_600_000).toISOString();

  it('answers a retried replay with the first answer without running it again', async () => {
    await allPublished();
    const first = await replay({ since }, 'replay-once');
    expect(first.status).toBe(202);
    const queuedFirst = (first.body as { queued: number }).queued;
    expect(queuedFirst).toBeGreaterThan(0);
    // a new event: a replay that ran again would count it
    expect((await api(gw, 'POST', '/v1.0/event/order.created', { n: 3 })).status).toBe(202);
    await allPublished();

    const again = await replay({ since }, 'replay-once');
    expect(again.status).toBe(202);
    expect(again.text).toBe(first.text);

    // without a key the same request runs again, and a run answers otherwise: it queues the
    // new event only (the earlier ones are queued already)
    const unkeyed = await replay({ since });
    expect(unkeyed.status).toBe(202);
    expect((unkeyed.body as { queued: number }).queued).toBe(1);
    expect(queuedFirst).toBeGreaterThan(1);
  });

  it('answers 422 idempotency_key_reused for the same key with another body', async () => {
    expect((await replay({ since }, 'replay-reused')).status).toBe(202);
    const other = await replay({ since, failed_only: true }, 'replay-reused');
    expect(other.status).toBe(422);
    expect(codeOf(other.body)).toBe('idempotency_key_reused');
  });

  it('frees the key when the first answer is an error, so a corrected retry runs', async () => {
    const refused = await replay({ since: 'not a date' }, 'replay-after-error');
    expect(refused.status).toBe(422);
    expect(codeOf(refused.body)).toBe('validation_failed');
    const retried = await replay({ since: 'not a date' }, 'replay-after-error');
    expect(retried.status).toBe(422);
    expect(codeOf(retried.body)).toBe('validation_failed');
    // the same key, now with a valid body: not "reused", because no answer was recorded
    const fixed = await replay({ since }, 'replay-after-error');
    expect(fixed.status).toBe(202);
  });

  it('refuses an Idempotency-Key that is not visible ASCII with 422 naming the header', async () => {
    const res = await replay({ since }, 'bad key with spaces');
    expect(res.status).toBe(422);
    expect(JSON.stringify(res.body)).toContain('headers.idempotency-key');
  });
});
