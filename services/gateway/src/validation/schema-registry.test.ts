import { isRetenError } from '@reten/contracts';
import { createTestSchema, eventually, silentLogger } from '@reten/testing';
import type { TestSchema } from '@reten/testing';
import { SchemaRegistry } from './schema-registry';

let schema: TestSchema;
let registry: SchemaRegistry;

beforeAll(async () => {
  schema = await createTestSchema('schema registry');
  registry = new SchemaRegistry({
    pool: schema.pool,
    clientConfig: {
      connectionString: schema.databaseUrl,
      options: `-c search_path="${schema.schema}"`,
    },
    // nobody notifies on this channel: only the polling fallback can see changes
    channel: `${schema.schema}_silent`,
    pollIntervalMs: 100,
    log: silentLogger(),
  });
  await registry.start();
});

afterAll(async () => {
  await registry?.stop();
  await schema?.drop();
});

async function register(eworker: string, type: string, jsonSchema: unknown, version = 1) {
  await schema.pool.query(
    `INSERT INTO eworkers (name, types) VALUES ($1, ARRAY[$2]) ON CONFLICT (name) DO NOTHING`,
    [eworker, type],
  );
  await schema.pool.query(
    `INSERT INTO event_type_schemas (event_type, eworker, json_schema, schema_hash, version)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (event_type, eworker) DO UPDATE
        SET json_schema = EXCLUDED.json_schema, version = EXCLUDED.version`,
    [type, eworker, JSON.stringify(jsonSchema), `h${version}`, version],
  );
}

function failure(type: string, data: unknown): unknown {
  try {
    registry.validate(type, data, 'body');
    return undefined;
  } catch (err) {
    return err;
  }
}

describe('SchemaRegistry', () => {
  it('picks up a registration by polling when no NOTIFY arrives', async () => {
    expect(failure('poll.type', { a: 'x' })).toBeUndefined();
    await register('poller', 'poll.type', {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: { a: { type: 'integer' } },
      required: ['a'],
    });
    await eventually(() => {
      const err = failure('poll.type', { a: 'x' });
      expect(isRetenError(err) && err.details).toEqual([
        { path: 'body.a', message: 'must be integer' },
      ]);
    });
    expect(failure('poll.type', { a: 1 })).toBeUndefined();
  });

  it('checks formats such as date-time', async () => {
    await register('formats', 'format.type', {
      type: 'object',
      properties: { at: { type: 'string', format: 'date-time' } },
    });
    await eventually(() => expect(failure('format.type', { at: 'yesterday' })).toBeDefined());
    expect(failure('format.type', { at: '2026-11-25T10:00:00Z' })).toBeUndefined();
  });

  it('requires the data to satisfy the schema of every eworker registered for the type', async () => {
    await register('first', 'shared.type', { type: 'object', required: ['a'] });
    await register('second', 'shared.type', { type: 'object', required: ['b'] });
    await eventually(() => {
      const err = failure('shared.type', {});
      expect(isRetenError(err) && err.details?.map((d) => d.path)).toEqual(['body.a', 'body.b']);
    });
    expect(failure('shared.type', { a: 1, b: 2 })).toBeUndefined();
  });

  it('lists at most 50 failing paths in one answer', async () => {
    await register('many', 'many.type', {
      type: 'array',
      items: { type: 'integer' },
    });
    await eventually(() => expect(failure('many.type', ['x'])).toBeDefined());
    const err = failure(
      'many.type',
      Array.from({ length: 500 }, () => 'x'),
    );
    expect(isRetenError(err) && err.details).toHaveLength(50);
  });

  it('keeps validating the other types when one registered schema does not compile', async () => {
    await register('broken', 'broken.type', { type: 'not-a-type' });
    await register('fine', 'fine.type', { type: 'object', required: ['x'] });
    await eventually(() => expect(failure('fine.type', {})).toBeDefined());
    expect(failure('broken.type', { anything: true })).toBeUndefined();
  });
});
