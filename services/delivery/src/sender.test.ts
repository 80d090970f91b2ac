import { webhookReceiver } from '@reten/testing';
import type { WebhookReceiver } from '@reten/testing';
import { WebhookSender } from './sender';

describe('WebhookSender', () => {
  let receiver: WebhookReceiver;
  let sender: WebhookSender;

  beforeAll(async () => {
    receiver = await webhookReceiver();
    sender = new WebhookSender({
      allowPrivate: true,
      timeoutMs: 400,
      connectTimeoutMs: 1000,
      connectionsPerOrigin: 4,
    });
  });

  afterAll(async () => {
    await sender?.close();
    await receiver?.close();
  });

  const headers = { 'content-type': 'application/json' };

  it('reads no body for a 204 and keeps the excerpt of a body, path and query kept', async () => {
    receiver.respond({ status: 204 });
    const empty = await sender.send('wh_1', receiver.url('/a?x=1'), headers, '{}');
    expect(empty).toMatchObject({ succeeded: true, statusCode: 204, responseExcerpt: '' });
    receiver.respond({ status: 200, body: 'ok '.repeat(500) });
    const full = await sender.send('wh_1', receiver.url('/a?x=1'), headers, '{}');
    expect(full).toMatchObject({ succeeded: true, statusCode: 200 });
    expect(full.responseExcerpt).toHaveLength(1024);
    receiver.respond({ status: 500, headers: { 'content-length': '0' } });
    const failed = await sender.send('wh_1', receiver.url('/a?x=1'), headers, '{}');
    expect(failed).toMatchObject({ succeeded: false, statusCode: 500, phase: 'status' });
    expect(receiver.requestsTo('/a?x=1').length + receiver.requestsTo('/a').length).toBe(3);
  });

  it('ends a hanging attempt at the timeout, as a headers-phase failure, not before', async () => {
    receiver.respond({ hang: true });
    const r = await sender.send('wh_2', receiver.url('/hang'), headers, '{}');
    expect(r).toMatchObject({ succeeded: false, statusCode: null, phase: 'headers' });
    expect(r.latencyMs).toBeGreaterThanOrEqual(395);
    expect(r.error).toMatch(/timeout/i);
  });

  it('refuses a private IP literal at every attempt, and an invalid URL, without a request', async () => {
    const guarded = new WebhookSender({
      allowPrivate: false,
      timeoutMs: 400,
      connectTimeoutMs: 1000,
      connectionsPerOrigin: 1,
    });
    try {
      for (let i = 0; i < 2; i++) {
        const r = await guarded.send('wh_3', 'http://127.0.0.1:9/x', headers, '{}');
        expect(r).toMatchObject({
          phase: 'connect',
          error: 'target refused: 127.0.0.1 is not a public address',
        });
        const v6 = await guarded.send('wh_3', 'http://[::1]:9/x', headers, '{}');
        expect(v6).toMatchObject({
          phase: 'connect',
          error: 'target refused: ::1 is not a public address',
        });
        const bad = await guarded.send('wh_3', 'not a url', headers, '{}');
        expect(bad).toMatchObject({ phase: 'connect', error: 'invalid URL' });
      }
    } finally {
      await guarded.close();
    }
  });
});
