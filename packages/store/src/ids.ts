import { monotonicFactory } from 'ulid';

const nextUlid = monotonicFactory();

/** `evt_` + ULID: time-ordered, strictly increasing within a process. */
export function newEventId(now: number = Date.now()): string {
  return `evt_${nextUlid(now)}`;
}

/** `<prefix>_` + ULID (`wh_…`, `dlv_…`): time-ordered, strictly increasing within a process. */
export function newPrefixedId(prefix: string, now: number = Date.now()): string {
  return `${prefix}_${nextUlid(now)}`;
}
