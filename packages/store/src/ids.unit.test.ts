import { newEventId, newPrefixedId } from './ids';

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

describe('event ids', () => {
  it('are ULIDs, unique and strictly increasing within a process, across many milliseconds', () => {
    const ids: string[] = [];
    const start = Date.now();
    for (let i = 0; i < 20_000; i += 1) ids.push(newEventId(start + Math.floor(i / 7)));
    for (const id of ids) expect(id.slice(4)).toMatch(ULID);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);
  });

  it('draw their random part from every Crockford character (the pooled random bytes are used)', () => {
    const seen = new Set<string>();
    const base = Date.now() + 10_000_000;
    for (let i = 0; i < 500; i += 1) {
      // a new millisecond each time: a fresh random part, not an increment
      for (const c of newPrefixedId('t', base + i).slice(12)) seen.add(c);
    }
    expect(seen.size).toBe(32);
  });
});
