import { EventIdSchema, isRetenError } from '@reten/contracts';
import { decodeCursor, encodeCursor } from './page-cursor';

const isEventId = (id: string) => EventIdSchema.safeParse(id).success;

describe('list cursor', () => {
  it('round-trips an event id through an opaque URL-safe string', () => {
    const id = 'evt_01J8Z3V6ZV4X3M2N9Q8R7S6T5V';
    const cursor = encodeCursor(id);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(cursor).not.toContain(id);
    expect(decodeCursor(cursor, isEventId)).toBe(id);
  });

  it.each(['', 'not-a-cursor', encodeCursor('evt_short'), encodeCursor("evt_' OR 1=1 --")])(
    'answers 422 naming query.cursor for %j',
    (cursor) => {
      let thrown: unknown;
      try {
        decodeCursor(cursor, isEventId);
      } catch (err) {
        thrown = err;
      }
      expect(isRetenError(thrown)).toBe(true);
      expect((thrown as { toEnvelope(): unknown }).toEnvelope()).toMatchObject({
        error: { code: 'validation_failed', status: 422, details: [{ path: 'query.cursor' }] },
      });
    },
  );
});
