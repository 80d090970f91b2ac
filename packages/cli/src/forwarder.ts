import { WEBHOOK_HEADERS, signWebhook } from '@reten/webhooks';
import { networkErrorOf } from './network-error';
import type { StreamEvent } from './stream-frames';
import { version } from './version';

/** What one forward gave: the status (null when no answer came) and how long it took. */
export interface ForwardResult {
  status: number | null;
  latencyMs: number;
  error: string | null;
}

/**
 * `webhook-id` of a forwarded event: the same for every forward of one event revision, so a
 * receiver that dedupes on it (as the README tells receivers to) behaves as in production.
 */
export function forwardMessageId(event: StreamEvent): string {
  return `fwd_${event.event_id}_${event.revision}`;
}

/**
 * The headers the delivery service sends, computed the same way: `X-Reten-Event-Id` and
 * `-Type`, then `signWebhook` of `@reten/webhooks` (Standard Webhooks `webhook-id`,
 * `webhook-timestamp`, `webhook-signature`, and `X-Reten-Signature`) over the exact body.
 */
export function forwardHeaders(
  event: StreamEvent,
  body: string,
  secret: string,
  now: Date,
): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': `Reten-CLI/${version}`,
    [WEBHOOK_HEADERS.eventId]: event.event_id,
    [WEBHOOK_HEADERS.eventType]: event.event_type,
    ...signWebhook({ msgId: forwardMessageId(event), timestamp: now, body, secrets: [secret] }),
  };
}

/** POSTs one event to the local URL, signed; never throws (a failure is a result to show). */
export async function forwardEvent(
  target: string,
  event: StreamEvent,
  body: string,
  secret: string,
  timeoutMs: number,
): Promise<ForwardResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const res = await fetch(target, {
      method: 'POST',
      headers: forwardHeaders(event, body, secret, new Date()),
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    // read the answer (under the same bound) so the connection can be reused
    await res.arrayBuffer();
    return { status: res.status, latencyMs: elapsed(), error: null };
  } catch (err) {
    return {
      status: null,
      latencyMs: elapsed(),
      error: networkErrorOf(err, target, timeoutMs).message,
    };
  }
}
