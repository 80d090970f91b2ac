import type { Request } from 'express';
import { isRetenError } from '@reten/contracts';
import { idempotencyKeyOf, requestFingerprint } from './idempotency-key';

/** The few fields of a request these functions read (node's own: they serve plain requests too). */
function request(fields: {
  key?: string;
  method?: string;
  path?: string;
  body?: unknown;
}): Request {
  return {
    headers: fields.key === undefined ? {} : { 'idempotency-key': fields.key },
    method: fields.method ?? 'POST',
    url: `${fields.path ?? '/v1.0/event/a'}?ignored=1`,
    body: fields.body,
  } as unknown as Request;
}

describe('idempotencyKeyOf', () => {
  it('is undefined without the header', () => {
    expect(idempotencyKeyOf(request({}))).toBeUndefined();
  });

  it.each([
    ['"abc-123"', 'abc-123'],
    ['abc-123', 'abc-123'],
    ['  "8e03978e-40d5-43e8-bc93-6894a57f9324"  ', '8e03978e-40d5-43e8-bc93-6894a57f9324'],
    ['"', '"'],
    ['x'.repeat(255), 'x'.repeat(255)],
  ])('reads %j as %j (structured-field string or bare token)', (header, key) => {
    expect(idempotencyKeyOf(request({ key: header }))).toBe(key);
  });

  it.each(['', '""', 'x'.repeat(256), 'with space', 'tab\there', 'é'])(
    'answers 422 naming headers.idempotency-key for %j',
    (header) => {
      let thrown: unknown;
      try {
        idempotencyKeyOf(request({ key: header }));
      } catch (err) {
        thrown = err;
      }
      expect(isRetenError(thrown)).toBe(true);
      expect((thrown as { details: unknown }).details).toEqual([
        { path: 'headers.idempotency-key', message: expect.any(String) },
      ]);
    },
  );
});

describe('requestFingerprint', () => {
  it('is the same for the same method, path and body, and differs when any changes', () => {
    const base = requestFingerprint(request({ body: { a: 1 } }));
    expect(requestFingerprint(request({ body: { a: 1 } }))).toBe(base);
    expect(requestFingerprint(request({ body: { a: 2 } }))).not.toBe(base);
    expect(requestFingerprint(request({ body: { a: 1 }, path: '/v1.0/event/b' }))).not.toBe(base);
    expect(requestFingerprint(request({ body: { a: 1 }, method: 'PUT' }))).not.toBe(base);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
  });
});
