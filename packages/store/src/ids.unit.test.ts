import { decodeTime, ulid } from 'ulid';
import { deliveryIdOf, newEventId, newPrefixedId } from './ids';

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

describe('delivery ids', () => {
  it('are the same ULID each time for one endpoint, event and revision, and differ otherwise', () => {
    const event = newEventId(Date.UTC(2026, 11, 1, 12));
    const id = deliveryIdOf('wh_a', event, 1, Date.UTC(2026, 11, 1, 12, 0, 5));
    expect(id).toMatch(/^dlv_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(deliveryIdOf('wh_a', event, 1, Date.UTC(2026, 11, 1, 12, 0, 5))).toBe(id);
    const others = [
      deliveryIdOf('wh_b', event, 1, Date.UTC(2026, 11, 1, 12, 0, 5)),
      deliveryIdOf('wh_a', event, 2, Date.UTC(2026, 11, 1, 12, 0, 5)),
      deliveryIdOf('wh_a', newEventId(), 1, Date.UTC(2026, 11, 1, 12, 0, 5)),
    ];
    for (const other of others) expect(other.slice(14)).not.toBe(id.slice(14));
  });

  it('take their time from the acceptance, else from the event id, else 0', () => {
    const at = Date.UTC(2026, 11, 1, 12, 30);
    // (not newEventId: its ids never go back in time within a process)
    const event = `evt_${ulid(Date.UTC(2026, 10, 1))}`;
    expect(decodeTime(deliveryIdOf('wh_a', event, 1, at).slice(4))).toBe(at);
    expect(decodeTime(deliveryIdOf('wh_a', event, 1).slice(4))).toBe(Date.UTC(2026, 10, 1));
    expect(decodeTime(deliveryIdOf('wh_a', 'evt_not-a-ulid', 1).slice(4))).toBe(0);
  });

  it('spread their hashed part over every Crockford character', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 300; i += 1) {
      for (const c of deliveryIdOf(`wh_${i}`, 'evt_x', 1, 0).slice(14)) seen.add(c);
    }
    expect(seen.size).toBe(32);
  });
});
