import { randomFillSync } from 'node:crypto';
import { monotonicFactory } from 'ulid';

/**
 * The same random bytes ulid's default takes (crypto, one byte per character), drawn from a
 * pool refilled 4 KiB at a time: the default makes one getRandomValues call per character,
 * 16 per id, a visible share of the ingest path's CPU.
 */
const pool = Buffer.alloc(4096);
let next = pool.length;
function pooledRandom(): number {
  if (next === pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  const byte = pool[next] as number;
  next += 1;
  return byte / 256;
}

const nextUlid = monotonicFactory(pooledRandom);

/** `evt_` + ULID: time-ordered, strictly increasing within a process. */
export function newEventId(now: number = Date.now()): string {
  return `evt_${nextUlid(now)}`;
}

/** `<prefix>_` + ULID (`wh_…`, `dlv_…`): time-ordered, strictly increasing within a process. */
export function newPrefixedId(prefix: string, now: number = Date.now()): string {
  return `${prefix}_${nextUlid(now)}`;
}
