import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import type { Arbitrary } from 'fast-check';
import {
  contentEncodings,
  contentTypes,
  deepNesting,
  hostileHeaderValues,
  hostileJsonValues,
  hostilePathSegments,
  hostileQueryValues,
  hostileRawBodies,
  hugeNumbers,
} from './hostile';
import { arbitraryFor } from './schema-arbitrary';
import type { JsonSchema, Resolve } from './schema-arbitrary';

interface Parameter {
  in: string;
  name: string;
  required?: boolean;
  schema?: JsonSchema;
}

/** One operation of the OpenAPI document. */
export interface Operation {
  method: string;
  path: string;
  parameters: Parameter[];
  bodySchema: JsonSchema | undefined;
  responses: Set<string>;
}

/** One generated request. */
export interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
}

interface OpenApiDocument {
  paths: Record<string, Record<string, unknown>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/** Every operation of the document, and how to resolve its `$ref`s. */
export function operationsOf(doc: OpenApiDocument): { operations: Operation[]; resolve: Resolve } {
  const resolve: Resolve = (ref) => {
    const schema = doc.components?.schemas?.[ref.replace('#/components/schemas/', '')];
    if (!schema) throw new Error(`unresolved ${ref}`);
    return schema;
  };
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method] as
        | {
            parameters?: Parameter[];
            requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
            responses: Record<string, unknown>;
          }
        | undefined;
      if (!op) continue;
      operations.push({
        method: method.toUpperCase(),
        path,
        parameters: op.parameters ?? [],
        bodySchema: op.requestBody
          ? (op.requestBody.content?.['application/json']?.schema ?? {})
          : undefined,
        responses: new Set(Object.keys(op.responses)),
      });
    }
  }
  return { operations, resolve };
}

const encode = (value: unknown): string =>
  encodeURIComponent(typeof value === 'string' ? value : JSON.stringify(value));

/** A value as a URL component: generated text is encoded, hostile wire forms are sent as they are. */
function wireValue(schema: JsonSchema | undefined, resolve: Resolve, hostile: Arbitrary<string>) {
  const valid = arbitraryFor(schema ?? {}, resolve)
    .filter((v) => typeof v !== 'string' || !/\p{Cs}/u.test(v))
    .map(encode);
  return fc.oneof({ weight: 3, arbitrary: valid }, { weight: 1, arbitrary: hostile });
}

function pathArbitrary(op: Operation, resolve: Resolve, known: Record<string, string[]>) {
  const segments: Record<string, Arbitrary<string>> = {};
  for (const p of op.parameters.filter((x) => x.in === 'path')) {
    const existing = known[p.name] ?? [];
    const generated = wireValue(p.schema, resolve, hostilePathSegments);
    segments[p.name] =
      existing.length > 0
        ? fc.oneof(
            { weight: 2, arbitrary: fc.constantFrom(...existing) },
            { weight: 2, arbitrary: generated },
          )
        : generated;
  }
  return fc
    .record(segments)
    .map((values) => op.path.replace(/\{([^}]+)\}/g, (_m, name: string) => values[name] ?? ''));
}

function queryArbitrary(op: Operation, resolve: Resolve): Arbitrary<string> {
  const params = op.parameters.filter((x) => x.in === 'query');
  const pairs = params.map((p) =>
    fc.option(
      wireValue(p.schema, resolve, hostileQueryValues).map((v) => `${p.name}=${v}`),
      {
        nil: undefined,
        freq: 2,
      },
    ),
  );
  const extra = fc.option(
    fc.constantFrom(
      'unknown=1',
      `${params[0]?.name ?? 'x'}=1&${params[0]?.name ?? 'x'}=2`,
      '%FF=1',
      '&&=',
    ),
    { nil: undefined, freq: 6 },
  );
  return fc.tuple(fc.tuple(...pairs), extra).map(([chosen, more]) => {
    const parts = [...chosen, more].filter((x): x is string => x !== undefined);
    return parts.length > 0 ? `?${parts.join('&')}` : '';
  });
}

function headersArbitrary(op: Operation, resolve: Resolve): Arbitrary<Record<string, string>> {
  const model: Record<string, Arbitrary<string>> = {};
  for (const p of op.parameters.filter((x) => x.in === 'header')) {
    const valid = arbitraryFor(p.schema ?? {}, resolve)
      .map(String)
      .filter((v) => /^[\x20-\x7e\t]*$/.test(v) && v.trim() === v);
    model[p.name] = fc.oneof(
      { weight: 3, arbitrary: valid },
      { weight: 1, arbitrary: hostileHeaderValues },
    );
  }
  return fc.record(model, { requiredKeys: [] }).map((chosen) => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(chosen))
      if (value !== undefined) headers[name] = value;
    return headers;
  });
}

/** A valid value with one field replaced by a hostile one, or an unknown field added. */
function mutated(valid: Arbitrary<unknown>): Arbitrary<unknown> {
  return fc.tuple(valid, hostileJsonValues, fc.nat(), fc.boolean()).map(([value, bad, i, add]) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad;
    const keys = Object.keys(value);
    const key = add || keys.length === 0 ? `unknown_${i % 3}` : keys[i % keys.length]!;
    return { ...value, [key]: bad };
  });
}

function bodyArbitrary(schema: JsonSchema, resolve: Resolve): Arbitrary<string | Buffer> {
  const valid = arbitraryFor(schema, resolve);
  const top = schema.$ref ? resolve(schema.$ref) : schema;
  const key = fc.constantFrom(...Object.keys(top.properties ?? { data: {} }));
  return fc.oneof(
    { weight: 6, arbitrary: valid.map((v) => JSON.stringify(v)) },
    { weight: 3, arbitrary: mutated(valid).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: hostileJsonValues.map((v) => JSON.stringify(v)) },
    { weight: 2, arbitrary: hostileRawBodies },
    { weight: 1, arbitrary: fc.tuple(key, deepNesting).map(([k, d]) => `{"${k}":${d}}`) },
    { weight: 1, arbitrary: fc.tuple(key, hugeNumbers).map(([k, n]) => `{"${k}":${n}}`) },
  );
}

/** Requests for one operation: valid and hostile path, query, headers and body. */
export function requestArbitrary(
  op: Operation,
  resolve: Resolve,
  known: Record<string, string[]>,
  baseUrl: string,
): Arbitrary<FuzzRequest> {
  const body = op.bodySchema
    ? fc.option(fc.tuple(bodyArbitrary(op.bodySchema, resolve), contentTypes, contentEncodings), {
        nil: undefined,
        freq: 12,
      })
    : fc.constant(undefined);
  return fc
    .tuple(
      pathArbitrary(op, resolve, known),
      queryArbitrary(op, resolve),
      headersArbitrary(op, resolve),
      body,
    )
    .map(([path, query, headers, sent]) => {
      const all: Record<string, string> = { ...headers };
      let bytes: Buffer | undefined;
      if (sent) {
        const [payload, type, encoding] = sent;
        bytes = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8');
        if (type) all['content-type'] = type;
        if (encoding === 'valid-gzip') {
          bytes = gzipSync(bytes);
          all['content-encoding'] = 'gzip';
        } else if (encoding) {
          all['content-encoding'] = encoding;
        }
      }
      return { method: op.method, url: `${baseUrl}${path}${query}`, headers: all, body: bytes };
    });
}
