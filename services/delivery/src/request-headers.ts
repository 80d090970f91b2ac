import { RESERVED_WEBHOOK_HEADER } from '@reten/contracts';
import { WEBHOOK_HEADERS, signWebhook } from '@reten/webhooks';
import type { DeliveryRow, Endpoint } from './endpoint';

/** `User-Agent` of every webhook request. */
export function userAgent(version: string): string {
  return `Reten-Webhooks/${version}`;
}

/**
 * The headers of one attempt: the endpoint's custom headers, then ours (which win), signed
 * with the current secret and, during a rotation's grace period, the previous one too.
 */
export function requestHeaders(
  endpoint: Endpoint,
  row: DeliveryRow,
  body: string,
  agent: string,
  now: Date,
): Record<string, string> {
  const secrets: string[] = [];
  if (endpoint.signing === 'hmac' && endpoint.secret) {
    secrets.push(endpoint.secret);
    if (
      endpoint.previousSecret &&
      endpoint.previousSecretExpiresAt &&
      endpoint.previousSecretExpiresAt > now
    ) {
      secrets.push(endpoint.previousSecret);
    }
  }
  const headers: Record<string, string> = { ...customHeaders(endpoint) };
  headers['content-type'] = 'application/json';
  headers['user-agent'] = agent;
  headers[WEBHOOK_HEADERS.eventId] = row.eventId;
  headers[WEBHOOK_HEADERS.eventType] = row.eventType;
  return Object.assign(
    headers,
    signWebhook({
      msgId: row.id,
      timestamp: now,
      body,
      secrets,
      ed25519PrivateKey:
        endpoint.signing === 'ed25519' ? (endpoint.privateKey ?? undefined) : undefined,
    }),
  );
}

/**
 * The endpoint's custom headers a request may carry, filtered once per endpoint object (the
 * cache hands out the same object until the endpoint changes or the entry expires).
 */
const customByEndpoint = new WeakMap<Endpoint, Record<string, string>>();

function customHeaders(endpoint: Endpoint): Record<string, string> {
  let custom = customByEndpoint.get(endpoint);
  if (custom === undefined) {
    custom = {};
    for (const [name, value] of Object.entries(endpoint.headers)) {
      // the API refuses these names; a row holding one anyway (any case) never overrides ours
      if (!RESERVED_WEBHOOK_HEADER.test(name)) custom[name] = value;
    }
    customByEndpoint.set(endpoint, custom);
  }
  return custom;
}
