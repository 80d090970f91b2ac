import type { ReceivedRequest, ReceiverAnswer, WebhookReceiver } from '@reten/testing';

/** One request a checking receiver got, and how it answered. */
export interface Arrival {
  eventId: string;
  orderingKey: string | null;
  /** Whether this was the first request for this delivery (`webhook-id`) the receiver saw. */
  first: boolean;
  succeeded: boolean;
  at: number;
}

/** A deterministic pseudo-random sequence (mulberry32): a failing run can be replayed by seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Makes `receiver` answer through `decide` (default 204), from the request and whether it is the
 * first one of its delivery (`webhook-id`); every request to `path` is recorded as an arrival, in
 * the order the receiver got them (other paths are answered, not recorded).
 */
export function recordArrivals(
  receiver: WebhookReceiver,
  path: string,
  decide: (req: ReceivedRequest, first: boolean) => ReceiverAnswer = () => ({}),
  arrivals: Arrival[] = [],
): Arrival[] {
  const seen = new Set<string>();
  receiver.respond((req) => {
    if (req.path !== path) return decide(req, true);
    const id = req.headers['webhook-id'] ?? '';
    const first = !seen.has(id);
    seen.add(id);
    const body = JSON.parse(req.rawBody) as { event_id: string; ordering_key?: string };
    const answer = decide(req, first);
    const status = answer.status ?? 204;
    arrivals.push({
      eventId: body.event_id,
      orderingKey: body.ordering_key ?? null,
      first,
      succeeded: !answer.hang && !answer.reset && status >= 200 && status < 300,
      at: Date.now(),
    });
    return answer;
  });
  return arrivals;
}

/**
 * Per key, the events whose request succeeded, in the order they first succeeded, next to the
 * publish order: the two lists of every key must be equal (order kept, nothing missing). A
 * repeated success is dropped: a request can reach the receiver and still fail for Reten (its
 * answer came after the timeout on a loaded machine); its retry is at least once, by design.
 */
export function successesByKey(
  published: { eventId: string; orderingKey: string }[],
  arrivals: Arrival[],
): Map<string, { published: string[]; succeeded: string[] }> {
  const byKey = new Map<string, { published: string[]; succeeded: string[] }>();
  const entry = (key: string) => {
    let e = byKey.get(key);
    if (!e) byKey.set(key, (e = { published: [], succeeded: [] }));
    return e;
  };
  for (const p of published) entry(p.orderingKey).published.push(p.eventId);
  const seen = new Set<string>();
  for (const a of arrivals) {
    if (!a.succeeded || a.orderingKey === null || seen.has(a.eventId)) continue;
    seen.add(a.eventId);
    entry(a.orderingKey).succeeded.push(a.eventId);
  }
  return byKey;
}

/**
 * The keys whose order was broken (or with a delivery missing or repeated): what a test expects
 * to be empty. Each entry shows where the two lists part.
 */
export function orderViolations(
  published: { eventId: string; orderingKey: string }[],
  arrivals: Arrival[],
): string[] {
  const out: string[] = [];
  for (const [key, { published: p, succeeded: s }] of successesByKey(published, arrivals)) {
    const at = p.findIndex((id, i) => s[i] !== id);
    if (at !== -1 || s.length !== p.length) {
      out.push(`${key}: ${s.length}/${p.length} succeeded, first difference at ${at}`);
    }
  }
  return out;
}

/**
 * How many successes of other keys arrived while a key was held: between a failed request of
 * a key and the next success of that key. Summed over every such interval.
 */
export function othersDeliveredWhileHeld(arrivals: Arrival[]): number {
  let total = 0;
  const heldSince = new Map<string, number>();
  arrivals.forEach((a, i) => {
    if (a.orderingKey === null) return;
    if (!a.succeeded) {
      if (!heldSince.has(a.orderingKey)) heldSince.set(a.orderingKey, i);
      return;
    }
    const since = heldSince.get(a.orderingKey);
    if (since === undefined) return;
    heldSince.delete(a.orderingKey);
    for (let j = since + 1; j < i; j++) {
      const b = arrivals[j] as Arrival;
      if (b.succeeded && b.orderingKey !== a.orderingKey) total += 1;
    }
  });
  return total;
}
