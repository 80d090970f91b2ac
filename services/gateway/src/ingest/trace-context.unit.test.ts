import { parseTraceContext } from './trace-context';

const ID = '4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('parseTraceContext', () => {
  it('keeps a valid version 00 traceparent and its tracestate', () => {
    expect(parseTraceContext(`00-${ID}`, 'a=1,b=2')).toEqual({
      traceparent: `00-${ID}`,
      tracestate: 'a=1,b=2',
    });
    expect(parseTraceContext(`00-${ID}`, undefined)).toEqual({ traceparent: `00-${ID}` });
  });

  it('reads a later version as far as version 00 defines it, and passes it on as 00', () => {
    expect(parseTraceContext(`cc-${ID}-what-comes-next`, undefined)).toEqual({
      traceparent: `00-${ID}`,
    });
    expect(parseTraceContext(`cc-${ID}`, undefined)).toEqual({ traceparent: `00-${ID}` });
    expect(parseTraceContext(`cc-${ID}x`, undefined)).toBeUndefined();
  });

  it.each([
    ['absent', undefined],
    ['empty', ''],
    ['version ff', `ff-${ID}`],
    ['version 00 with more fields', `00-${ID}-01`],
    ['upper-case hex', `00-${ID.toUpperCase()}`],
    ['an all-zero trace id', '00-00000000000000000000000000000000-00f067aa0ba902b7-01'],
    ['an all-zero parent id', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01'],
    ['two joined headers', `00-${ID}, 00-${ID}`],
  ])('ignores a traceparent that is %s, and the tracestate with it', (_, traceparent) => {
    expect(parseTraceContext(traceparent, 'a=1')).toBeUndefined();
  });

  it('drops a tracestate longer than 512 characters or with control characters, keeping the traceparent', () => {
    expect(parseTraceContext(`00-${ID}`, `a=${'x'.repeat(511)}`)).toEqual({
      traceparent: `00-${ID}`,
    });
    expect(parseTraceContext(`00-${ID}`, 'a=\u0001')).toEqual({ traceparent: `00-${ID}` });
    expect(parseTraceContext(`00-${ID}`, '  ')).toEqual({ traceparent: `00-${ID}` });
  });
});
