import { isRetenError } from '@reten/contracts';
import { ClientMessageSchema, parseConnectParams } from './protocol';
import { originCheck } from './origin-check';
import { decodeLiveEvent, encodeLiveEvent, tenantChannel } from './redis-message';
import { TypeFilter } from './type-filter';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('did not throw');
}

describe('parseConnectParams', () => {
  it('reads a comma list of type filters, a last_event_id with or without revision, and a token', () => {
    const params = parseConnectParams(
      new URLSearchParams(
        'types=order.*, log:ClientLog&last_event_id=evt_01J8Z3V6ZV4X3M2N9Q8R7S6T5V:3&token=abc',
      ),
    );
    expect(params).toEqual({
      token: 'abc',
      types: ['order.*', 'log:ClientLog'],
      lastEventId: { eventId: 'evt_01J8Z3V6ZV4X3M2N9Q8R7S6T5V', revision: 3 },
    });
    expect(
      parseConnectParams(new URLSearchParams('last_event_id=evt_01J8Z3V6ZV4X3M2N9Q8R7S6T5V'))
        .lastEventId,
    ).toEqual({
      eventId: 'evt_01J8Z3V6ZV4X3M2N9Q8R7S6T5V',
      revision: undefined,
    });
  });

  it('leaves types undefined when the URL has none', () => {
    expect(parseConnectParams(new URLSearchParams('')).types).toBeUndefined();
  });

  it('throws bad_request naming the parameter for a bad filter, an empty filter or a bad id', () => {
    for (const [query, path] of [
      ['types=order.$', 'query.types'],
      ['types=,', 'query.types'],
      ['last_event_id=evt_nope', 'query.last_event_id'],
      ['last_event_id=evt_01J8Z3V6ZV4X3M2N9Q8R7S6T5V:0', 'query.last_event_id'],
    ] as const) {
      const err = thrown(() => parseConnectParams(new URLSearchParams(query)));
      expect(isRetenError(err) && err.code).toBe('bad_request');
      expect(isRetenError(err) && err.details?.[0]?.path).toBe(path);
    }
  });
});

describe('ClientMessageSchema', () => {
  it('accepts subscribe (types optional) and ping, and rejects unknown types and extra keys', () => {
    expect(ClientMessageSchema.safeParse({ type: 'subscribe' }).success).toBe(true);
    expect(
      ClientMessageSchema.safeParse({ type: 'subscribe', types: ['a.*'], last_event_id: 'x' })
        .success,
    ).toBe(true);
    expect(ClientMessageSchema.safeParse({ type: 'ping' }).success).toBe(true);
    expect(ClientMessageSchema.safeParse({ type: 'dance' }).success).toBe(false);
    expect(ClientMessageSchema.safeParse({ type: 'ping', extra: 1 }).success).toBe(false);
    expect(ClientMessageSchema.safeParse({ type: 'subscribe', types: [] }).success).toBe(false);
  });
});

describe('redis message', () => {
  it('round-trips the stream position, publish time, type and the envelope bytes untouched', () => {
    const json = Buffer.from('{"event_id":"evt_x","data":{"s":"é\\n"}}');
    const decoded = decodeLiveEvent(encodeLiveEvent('42', 1700, 'log:ClientLog', json));
    expect(decoded).toEqual({
      position: 42,
      publishedAtMs: 1700,
      eventType: 'log:ClientLog',
      receivedAtMs: undefined,
      json,
    });
  });

  it('carries when the event was accepted, and reads payloads of replicas that do not send it', () => {
    const json = Buffer.from('{}');
    expect(decodeLiveEvent(encodeLiveEvent('7', 1700, 'a.b', json, 1650))).toMatchObject({
      position: 7,
      eventType: 'a.b',
      receivedAtMs: 1650,
    });
    const older = decodeLiveEvent(Buffer.concat([Buffer.from('7 1700 a.b\n'), json]));
    expect(older).toMatchObject({ position: 7, eventType: 'a.b', receivedAtMs: undefined });
  });

  it('returns undefined for a payload that is not ours', () => {
    expect(decodeLiveEvent(Buffer.from('hello'))).toBeUndefined();
    expect(decodeLiveEvent(Buffer.from('x y z\n{}'))).toBeUndefined();
  });

  it('names the channel after the prefix and tenant', () => {
    expect(tenantChannel('reten:', 'acme')).toBe('reten:stream:acme');
  });
});

describe('TypeFilter', () => {
  it('matches exact names and wildcards, and * matches everything', () => {
    const filter = new TypeFilter(['order.*', 'log:ClientLog']);
    expect(
      ['order.created', 'log:ClientLog', 'orders', 'user.created'].map((t) => filter.matches(t)),
    ).toEqual([true, true, false, false]);
    expect(new TypeFilter(['*']).matches('anything')).toBe(true);
  });
});

describe('originCheck', () => {
  it('allows any origin with *, else only listed ones (case and trailing slash ignored), and clients without Origin', () => {
    expect(originCheck('*')('https://x.example')).toBe(true);
    const check = originCheck('https://App.example.com/, https://b.example');
    expect(check('https://app.example.com')).toBe(true);
    expect(check('https://b.example')).toBe(true);
    expect(check('https://evil.example')).toBe(false);
    expect(check(undefined)).toBe(true);
  });
});
