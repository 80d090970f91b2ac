import { monotonicFactory } from 'ulid';

const nextUlid = monotonicFactory();

/** `evt_` + ULID: time-ordered, strictly increasing within a process. */
export function newEventId(now: number = Date.now()): string {
  return `evt_${nextUlid(now)}`;
}
