import Ajv2020 from 'ajv/dist/2020';
import { ajvErrorsToDetails } from './ajv-details';

const ajv = new Ajv2020({ allErrors: true, strict: false });
const validate = ajv.compile({
  type: 'object',
  required: ['logs', 'client'],
  additionalProperties: false,
  properties: {
    client: { type: 'object' },
    logs: {
      type: 'array',
      items: {
        type: 'object',
        properties: { level: { enum: ['info', 'error'] }, 'a/b': { type: 'string' } },
      },
    },
  },
});

function details(data: unknown, location = 'body') {
  expect(validate(data)).toBe(false);
  return ajvErrorsToDetails(location, validate.errors ?? []);
}

describe('ajvErrorsToDetails', () => {
  it('turns the JSON Pointer of a failing value into a dotted path under the location', () => {
    expect(details({ client: {}, logs: [{}, { level: 'x' }] })).toEqual([
      { path: 'body.logs.1.level', message: 'must be equal to one of the allowed values' },
    ]);
  });

  it('names a missing property and an unknown property by their own path', () => {
    expect(details({ logs: [], extra: 1 }, 'body.data').map((d) => d.path)).toEqual([
      'body.data.client',
      'body.data.extra',
    ]);
  });

  it('unescapes ~1 and ~0 in property names', () => {
    expect(details({ client: {}, logs: [{ 'a/b': 1 }] })[0]?.path).toBe('body.logs.0.a/b');
  });
});
