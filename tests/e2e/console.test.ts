import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { eventually } from '@reten/testing';
import { api, eventIdOf } from '../../services/gateway/src/test-api';
import { startConsoleStack } from './console-stack';
import type { ConsoleStack } from './console-stack';

jest.setTimeout(240_000);

/** Debian's chromium (scripts/test-prereqs.sh installs it): Playwright downloads no browser. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Git-ignored: one screenshot per page of each run. */
const SCREENSHOTS = path.resolve(__dirname, '../../test-output/console');
const WAIT = { timeoutMs: 30_000, intervalMs: 250 };

let stack: ConsoleStack;
let browser: Browser;
let page: Page;
let webhookId: string;
const pageErrors: string[] = [];

/** `datetime-local` wants the browser's local wall-clock time (same machine, same zone). */
function localInput(at: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${p(at.getMonth() + 1)}-${p(at.getDate())}T${p(at.getHours())}:${p(at.getMinutes())}:${p(at.getSeconds())}`;
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

async function signIn(credential: string): Promise<void> {
  await page.goto(`${stack.gatewayUrl}/console/`);
  await page.fill('input[name=credential]', credential);
  await page.fill('input[name=streamUrl]', stack.streamWsUrl);
  await page.click('button[type=submit]');
}

/** The row of one delivery of the endpoint, after pressing Refresh until `ready` holds. */
async function deliveryRow(eventId: string, ready: (text: string) => boolean): Promise<string> {
  return eventually(async () => {
    await page.click('section:has(h2:text("Deliveries")) button:text("Refresh")');
    const row = page.locator(`tr[data-event="${eventId}"]`);
    await row.waitFor({ timeout: 2000 });
    const text = await row.innerText();
    if (!ready(text)) throw new Error(`delivery not there yet: ${text}`);
    return text;
  }, WAIT);
}

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  stack = await startConsoleStack('e2e console');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // root in a container has no user namespace for chromium's sandbox
    args: ['--no-sandbox'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (err) => pageErrors.push(err.message));
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('the operator console in a real browser, against the stack as processes', () => {
  it('refuses a bad key with the API’s error and stays on the sign-in form', async () => {
    await signIn('rtn_this_is_not_a_key');
    await page.locator('.error:has-text("unauthorized")').waitFor({ timeout: 10_000 });
    expect(await page.locator('input[name=credential]').count()).toBe(1);
    await shot('sign-in-refused');
  });

  it('signs in with a key and shows the Events page; the key stays in session storage', async () => {
    await signIn(stack.apiKey);
    await page.locator('header nav a:text("Events")').waitFor({ timeout: 10_000 });
    // (expressions as strings: this file is type-checked without the DOM library)
    const stored = await page.evaluate<string | null>(
      "sessionStorage.getItem('reten.console.session')",
    );
    expect(stored).toContain(stack.apiKey);
    expect(await page.evaluate<number>('localStorage.length')).toBe(0);
  });

  it('creates an endpoint against a local receiver and shows its secret once', async () => {
    await page.click('header nav a:text("Webhooks")');
    await page.fill('form[aria-label="create webhook"] input[name=url]', stack.receiver.url());
    await page.fill('form[aria-label="create webhook"] input[name=eventTypes]', 'order.*');
    await page.click('form[aria-label="create webhook"] button[type=submit]');
    const secret = await page.locator('.once code.secret').innerText({ timeout: 10_000 });
    expect(secret).toMatch(/^whsec_/);
    await page.click(`a:text("${stack.receiver.url()}")`);
    await page.locator('h2:text("Statistics")').waitFor({ timeout: 10_000 });
    webhookId = decodeURIComponent(new URL(page.url()).hash.split('/')[2] ?? '');
    expect(webhookId).toMatch(/^wh_/);
  });

  it('sends an event from the Events page and sees it delivered in the endpoint’s history', async () => {
    // a slow receiver: the event's page is first shown while its delivery is in flight, and
    // must show the delivery when opened again (a 304 from the revision's ETag once showed
    // the browser's cached answer without it)
    stack.receiver.respond({ status: 204, delayMs: 2000 });
    await page.click('header nav a:text("Events")');
    await page.fill('input[name=sendType]', 'order.created');
    await page.fill('input[name=sendData]', '{"order_id":"o1"}');
    await page.click('form[aria-label="send event"] button[type=submit]');
    const sent = await page.locator('p:has-text("Sent") a').innerText({ timeout: 10_000 });
    await shot('events');
    await page.click(`a:text("${sent}")`);
    await page.locator('h2:text("Envelope")').waitFor({ timeout: 10_000 });
    await page.goto(`${stack.gatewayUrl}/console/#/webhooks/${webhookId}`);
    const row = await deliveryRow(sent, (t) => t.includes('succeeded'));
    expect(row).toContain('HTTP 204');
    expect(stack.receiver.requests.length).toBe(1);
    // the event page links its delivery to the endpoint
    await page.goto(`${stack.gatewayUrl}/console/#/events/${sent}`);
    await page.locator(`a[href="#/webhooks/${webhookId}"]`).waitFor({ timeout: 10_000 });
  });

  it('shows a failed delivery with every attempt; Retry makes a new attempt that succeeds', async () => {
    stack.receiver.respond({ status: 500, body: 'receiver is down' });
    const failing = eventIdOf(
      await api({ url: stack.gatewayUrl, apiKey: stack.apiKey }, 'POST', '/v1.0/event/order.paid', {
        order_id: 'o2',
      }),
    );
    await page.goto(`${stack.gatewayUrl}/console/#/webhooks/${webhookId}`);
    const failed = await deliveryRow(failing, (t) => t.includes('failed'));
    expect(failed).toContain('HTTP 500');
    expect(failed).toContain('receiver is down');
    stack.receiver.respond({ status: 200, body: 'ok now' });
    await page.click(`tr[data-event="${failing}"] button:text("Retry")`);
    const retried = await deliveryRow(failing, (t) => t.includes('succeeded'));
    expect(retried).toContain('HTTP 200');
    expect(retried).toContain('ok now');
  });

  it('replays the endpoint’s deliveries since a time', async () => {
    const before = stack.receiver.requests.length;
    await page.fill(
      'form[aria-label="replay"] input[name=replaySince]',
      localInput(new Date(Date.now() - 3_600_000)),
    );
    await page.click('form[aria-label="replay"] button[type=submit]');
    const note = await page.locator('p.note').innerText({ timeout: 10_000 });
    expect(note).toMatch(/Replay queued 2 deliveries/);
    await eventually(() => expect(stack.receiver.requests.length).toBe(before + 2), WAIT);
    // statistics: 1 + 4 attempts before, 2 replayed; the 3 failures were HTTP 500
    const stats = await eventually(async () => {
      await page.click('section:has(h2:text("Deliveries")) button:text("Refresh")');
      const text = await page.locator('[data-testid=stats]').innerText();
      expect(text).toContain('(4 of 7 attempts)');
      return text;
    }, WAIT);
    expect(stats).toContain('HTTP 500');
    // the last hour by the minute: the failures show as red bars
    await page.selectOption('select[name=range]', '0');
    const chart = page.locator('svg.chart[data-buckets="60"]');
    await chart.waitFor({ timeout: 10_000 });
    expect(await chart.getAttribute('data-failed')).toBe('3');
    expect(await chart.locator('rect.bad[height]:not([height="0"])').count()).toBeGreaterThan(0);
    await shot('webhook');
  });

  it('shows a parked eworker event and replays it', async () => {
    stack.eworkerFails(true);
    const job = eventIdOf(
      await api(
        { url: stack.gatewayUrl, apiKey: stack.apiKey },
        'POST',
        '/v1.0/event/console.job',
        {
          n: 1,
        },
      ),
    );
    await page.click('header nav a:text("Eworkers")');
    await eventually(async () => {
      await page.click('main button:text("Refresh")');
      await page.locator(`tr[data-parked="${job}"]`).waitFor({ timeout: 2000 });
    }, WAIT);
    await shot('eworkers');
    stack.eworkerFails(false);
    await page.click('[data-eworker="console-test"] button:text("Replay parked")');
    await page.locator('[data-eworker="console-test"] :text("Replayed 1")').waitFor({
      timeout: 10_000,
    });
    await eventually(async () => {
      await page.click('main button:text("Refresh")');
      // processed / failed / parked: handled once replayed, nothing parked any more
      const counts = await page.locator('[data-counts="console-test"]').innerText();
      expect(counts).toMatch(/^1 \/ \d+ \/ 0$/);
    }, WAIT);
  });

  it('shows a live event as it arrives over the stream', async () => {
    // what the stream sent the page, to tell a stream problem from a rendering one on failure
    const frames: string[] = [];
    page.on('websocket', (ws) =>
      ws.on('framereceived', (f) => frames.push(typeof f.payload === 'string' ? f.payload : '')),
    );
    await page.click('header nav a:text("Live")');
    await page.locator('.state[data-state="live"]').waitFor({ timeout: 15_000 });
    const live = eventIdOf(
      await api({ url: stack.gatewayUrl, apiKey: stack.apiKey }, 'POST', '/v1.0/event/order.live', {
        order_id: 'o3',
      }),
    );
    try {
      await page.locator(`table.live a[href="#/events/${live}"]`).waitFor({ timeout: 15_000 });
    } catch (err) {
      await shot('live-failed');
      throw new Error(
        `${String(err)}\nframes: ${frames.join('\n')}\nmain: ${await page.locator('main').innerHTML()}`,
      );
    }
    await shot('live');
  });

  it('resumes after a pause without a gap: an event sent while paused arrives on Resume', async () => {
    await page.click('main button:text("Pause")');
    await page.locator('.state[data-state="paused"]').waitFor({ timeout: 5000 });
    const missed = eventIdOf(
      await api({ url: stack.gatewayUrl, apiKey: stack.apiKey }, 'POST', '/v1.0/event/order.late', {
        order_id: 'o4',
      }),
    );
    await page.click('main button:text("Resume")');
    // the stream backfills from the last event the page showed (its last_event_id)
    await page.locator(`table.live a[href="#/events/${missed}"]`).waitFor({ timeout: 15_000 });
    await page
      .locator('.state[data-state^="live (resumed, 1 caught up)"]')
      .waitFor({ timeout: 5000 });
  });

  it('shows every revision of an event with its data', async () => {
    const gw = { url: stack.gatewayUrl, apiKey: stack.apiKey };
    const id = eventIdOf(await api(gw, 'POST', '/v1.0/event/note.added', { text: 'first' }));
    expect(
      (await api(gw, 'PUT', `/api/v1/events/${id}`, { data: { text: 'second' } })).status,
    ).toBe(200);
    await page.goto(`${stack.gatewayUrl}/console/#/events/${id}`);
    const second = page.locator('tr[data-revision="2"]');
    await second.waitFor({ timeout: 10_000 });
    expect(await second.innerText()).toContain('second');
    expect(await page.locator('tr[data-revision="1"]').innerText()).toContain('first');
    await shot('event');
  });

  it('shows the ordering key and the trace context the event was accepted under', async () => {
    const gw = { url: stack.gatewayUrl, apiKey: stack.apiKey };
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const producer = `00-${traceId}-b7ad6b7169203331-01`;
    const res = await api(
      gw,
      'POST',
      '/api/v1/events',
      { event_type: 'order.keyed', data: { n: 1 }, ordering_key: 'cust_7' },
      { headers: { traceparent: producer, tracestate: 'producer=1' } },
    );
    const id = eventIdOf(res);
    const stored = (await api(gw, 'GET', `/api/v1/events/${id}`)).body as { traceparent: string };
    // the gateway's ingest span: the producer's trace, a span of its own
    expect(stored.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    expect(stored.traceparent).not.toBe(producer);

    // the page before showed another event: wait for this one's envelope
    await page.goto(`${stack.gatewayUrl}/console/#/events/${id}`);
    await page.locator(`pre.json:has-text("${id}")`).waitFor({ timeout: 10_000 });
    expect(await page.locator('dd[data-fact="ordering-key"]').innerText()).toBe('cust_7');
    expect(await page.locator('dd[data-fact="traceparent"]').innerText()).toBe(stored.traceparent);
    expect(await page.locator('dd[data-fact="trace-id"]').innerText()).toBe(traceId);
    expect(await page.locator('dd[data-fact="tracestate"]').innerText()).toBe('producer=1');
    expect(await page.locator('pre.json').innerText()).toContain('"ordering_key": "cust_7"');
    await shot('event-trace');

    // an event without a key shows none, and its envelope has no ordering_key
    const keyless = eventIdOf(await api(gw, 'POST', '/v1.0/event/order.keyed', { n: 2 }));
    await page.goto(`${stack.gatewayUrl}/console/#/events/${keyless}`);
    await page.locator(`pre.json:has-text("${keyless}")`).waitFor({ timeout: 10_000 });
    expect(await page.locator('dd[data-fact="ordering-key"]').innerText()).toBe('—');
    expect(await page.locator('pre.json').innerText()).not.toContain('ordering_key');
  });

  it('filters events by a type wildcard and pages through them with the cursor', async () => {
    const gw = { url: stack.gatewayUrl, apiKey: stack.apiKey };
    const ids: string[] = [];
    for (let i = 0; i < 27; i += 1) {
      ids.push(eventIdOf(await api(gw, 'POST', '/v1.0/event/page.test', { i })));
    }
    await page.goto(`${stack.gatewayUrl}/console/#/events`);
    await page.fill('form.filters input[name=type]', 'page.*');
    await page.click('form.filters button[type=submit]');
    const rows = page.locator('main table tbody tr');
    // newest first, 25 a page: the first page ends with the third event sent
    await page.locator(`a[href="#/events/${ids[2]}"]`).waitFor({ timeout: 10_000 });
    expect(await rows.count()).toBe(25);
    await page.click('button:text("Older →")');
    await page.locator(`a[href="#/events/${ids[0]}"]`).waitFor({ timeout: 10_000 });
    expect(await rows.count()).toBe(2);
    await page.click('button:text("← Newer")');
    await page.locator(`a[href="#/events/${ids[26]}"]`).waitFor({ timeout: 10_000 });
  });

  it('raised no script error in the page', () => {
    expect(pageErrors).toEqual([]);
  });

  it('shows keys and limits, and greys out the pages a narrower key may not use, with the reason', async () => {
    await page.click('header nav a:text("Keys and limits")');
    await page.fill('input[name=keyName]', 'reader');
    await page.click('form[aria-label="create key"] button[type=submit]');
    const key = await page.locator('.once code.secret').innerText({ timeout: 10_000 });
    await page.locator('form[aria-label="tenant limits"]').waitFor();
    await shot('keys');
    await page.click('header button:text("Sign out")');
    await signIn(key);
    const webhooks = page.locator('header nav .disabled:text("Webhooks")');
    await webhooks.waitFor({ timeout: 10_000 });
    expect(await webhooks.getAttribute('title')).toContain('webhooks:manage');
    await page.goto(`${stack.gatewayUrl}/console/#/eworkers`);
    await page.locator('[data-denied="admin"]').waitFor({ timeout: 10_000 });
    // the Events page still works, and its send form is greyed out for a read-only key
    await page.goto(`${stack.gatewayUrl}/console/#/events`);
    await page.locator('[data-denied="events:write"]').waitFor({ timeout: 10_000 });
    await shot('read-only-key');
  });
});
