import { createHash } from 'node:crypto';
import { decodeTime, encodeTime, ulid } from 'ulid';
import { deliveryIdOf, newEventId, newPrefixedId } from './ids';
import { ULID_ALPHABET, timeOfEventKey } from './retention/event-key';

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

  it('are the ids the first version computed (a redelivery after an upgrade sends the same one)', () => {
    // the first version's code, kept as it was: a string built with ulid's encodeTime
    const firstVersion = (
      endpointId: string,
      eventId: string,
      revision: number,
      acceptedAtMs?: number,
    ) => {
      const time = acceptedAtMs ?? timeOfEventKey(eventId) ?? 0;
      const hash = createHash('sha256').update(`${endpointId} ${eventId} ${revision}`).digest();
      let bits = 0;
      let value = 0;
      let random = '';
      for (let i = 0; random.length < 16;) {
        if (bits < 5) {
          value = ((value << 8) | hash[i++]!) & 0xffff;
          bits += 8;
        }
        bits -= 5;
        random += ULID_ALPHABET[(value >> bits) & 31];
      }
      return `dlv_${encodeTime(Math.trunc(time), 10)}${random}`;
    };
    const times = [0, 1, 31, 32, 1_733_000_000_000, Date.UTC(2026, 11, 2, 6, 40), 2 ** 48 - 1];
    for (let i = 0; i < 2_000; i += 1) {
      const at = i < times.length ? times[i] : Math.floor(Math.random() * 2 ** 48);
      const event = i % 3 === 0 ? `evt_${ulid(Math.floor(Math.random() * 2 ** 40))}` : newEventId();
      const endpoint = `wh_${Math.random().toString(36).slice(2)}`;
      const revision = 1 + (i % 4);
      const accepted = i % 5 === 0 ? undefined : at;
      expect(deliveryIdOf(endpoint, event, revision, accepted)).toBe(
        firstVersion(endpoint, event, revision, accepted),
      );
    }
    expect(deliveryIdOf('wh_a', 'evt_not-a-ulid', 1)).toBe(
      firstVersion('wh_a', 'evt_not-a-ulid', 1),
    );
    expect(deliveryIdOf('wh_a', 'evt_x', 1, 1_733_000_000_000.7)).toBe(
      firstVersion('wh_a', 'evt_x', 1, 1_733_000_000_000.7),
    );
  });

  it('refuse a time out of the ULID range, as ulid does', () => {
    expect(() => deliveryIdOf('wh_a', 'evt_x', 1, -1)).toThrow(RangeError);
    expect(() => deliveryIdOf('wh_a', 'evt_x', 1, 2 ** 48)).toThrow(RangeError);
    expect(() => deliveryIdOf('wh_a', 'evt_x', 1, Number.NaN)).toThrow(RangeError);
  });
});
