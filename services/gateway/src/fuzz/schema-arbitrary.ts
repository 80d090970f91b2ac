import fc from 'fast-check';
import type { Arbitrary } from 'fast-check';

/** A JSON Schema as the OpenAPI document writes it (only the keywords the fuzzer reads). */
export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
}

/** Resolves `#/components/schemas/X` references against the document. */
export type Resolve = (ref: string) => JsonSchema;

const MAX_DEPTH = 5;

function stringArbitrary(schema: JsonSchema): Arbitrary<string> {
  if (schema.format === 'date-time') {
    return fc
      .date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z') })
      .filter((d) => !Number.isNaN(d.getTime()))
      .map((d) => d.toISOString());
  }
  if (schema.pattern) {
    const valid = fc.stringMatching(new RegExp(schema.pattern));
    return schema.maxLength === undefined
      ? valid
      : valid.filter((s) => s.length <= (schema.maxLength ?? Infinity));
  }
  const minLength = schema.minLength ?? 0;
  const maxLength = Math.min(schema.maxLength ?? 40, Math.max(minLength, 40));
  return fc.oneof(
    fc.string({ minLength, maxLength }),
    fc.string({ minLength, maxLength, unit: 'grapheme' }),
    fc
      .constantFrom('http://127.0.0.1:9/hook', 'https://example.com/h')
      .filter((s) => s.length >= minLength && s.length <= (schema.maxLength ?? Infinity)),
  );
}

/** Values the schema accepts (mostly: patterns and formats are followed, refinements are not). */
export function arbitraryFor(schema: JsonSchema, resolve: Resolve, depth = 0): Arbitrary<unknown> {
  if (schema.$ref) return arbitraryFor(resolve(schema.$ref), resolve, depth);
  if (depth > MAX_DEPTH) return fc.constant(null);
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map((s) => arbitraryFor(s, resolve, depth)));
  if (schema.allOf?.[0]) return arbitraryFor(schema.allOf[0], resolve, depth);
  if (Array.isArray(schema.type)) {
    return fc.oneof(
      ...schema.type.map((type) => arbitraryFor({ ...schema, type }, resolve, depth)),
    );
  }
  switch (schema.type) {
    case 'string':
      return stringArbitrary(schema);
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1_000_000, max: schema.maximum ?? 1_000_000 });
    case 'number':
      return fc.double({
        min: schema.minimum ?? -1e6,
        max: schema.maximum ?? 1e6,
        noNaN: true,
        noDefaultInfinity: true,
      });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(
        schema.items ? arbitraryFor(schema.items, resolve, depth + 1) : fc.jsonValue(),
        {
          minLength: schema.minItems ?? 0,
          maxLength: Math.min(schema.maxItems ?? 4, Math.max(schema.minItems ?? 0, 4)),
        },
      );
    case 'object':
      return objectArbitrary(schema, resolve, depth);
    default:
      // no type: any JSON value (EVCI data, event data)
      return fc.jsonValue({ maxDepth: 3 });
  }
}

function objectArbitrary(schema: JsonSchema, resolve: Resolve, depth: number): Arbitrary<unknown> {
  const properties = schema.properties ?? {};
  const model: Record<string, Arbitrary<unknown>> = {};
  for (const [name, s] of Object.entries(properties))
    model[name] = arbitraryFor(s, resolve, depth + 1);
  const record = fc.record(model, { requiredKeys: schema.required ?? [] });
  const extra = schema.additionalProperties;
  if (extra === undefined || extra === false || Object.keys(properties).length > 0) return record;
  const values =
    extra === true ? fc.jsonValue({ maxDepth: 2 }) : arbitraryFor(extra, resolve, depth + 1);
  return fc.dictionary(fc.string({ minLength: 1, maxLength: 20 }), values, { maxKeys: 3 });
}
