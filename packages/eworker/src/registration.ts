import { createHash } from 'node:crypto';
import { z } from 'zod';
import { eworkerRegistryChannel } from '@reten/store';
import type { Pool } from '@reten/store';

/** The JSON Schema (draft 2020-12) the gateway validates event data with. */
export function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input' });
}

export interface Registration {
  name: string;
  types: readonly string[];
  schema: z.ZodType;
}

/**
 * Registers an eworker, its types and their JSON Schema in one transaction, and notifies the
 * gateways when anything changed (they recompile without a restart). A schema's `version`
 * grows only when its content changes, so restarting replicas cause no churn. Returns
 * whether something changed.
 */
export async function registerEworker(
  pool: Pool,
  dbSchema: string,
  registration: Registration,
): Promise<boolean> {
  const jsonSchema = JSON.stringify(jsonSchemaOf(registration.schema));
  const hash = createHash('sha256').update(jsonSchema).digest('hex');
  const types = [...new Set(registration.types)];
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (err: Error): void => {
    broken = err;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO eworkers (name, types) VALUES ($1, $2::text[])
       ON CONFLICT (name) DO UPDATE SET types = EXCLUDED.types, updated_at = now()
        WHERE eworkers.types IS DISTINCT FROM EXCLUDED.types`,
      [registration.name, types],
    );
    const removed = await client.query(
      'DELETE FROM event_type_schemas WHERE eworker = $1 AND NOT (event_type = ANY($2::text[]))',
      [registration.name, types],
    );
    const upserted = await client.query(
      `INSERT INTO event_type_schemas AS s (event_type, eworker, json_schema, schema_hash)
       SELECT t, $1, $2::jsonb, $3 FROM unnest($4::text[]) AS t
       ON CONFLICT (event_type, eworker) DO UPDATE
          SET json_schema = EXCLUDED.json_schema, schema_hash = EXCLUDED.schema_hash,
              version = s.version + 1, updated_at = now()
        WHERE s.schema_hash <> EXCLUDED.schema_hash`,
      [registration.name, jsonSchema, hash, types],
    );
    const changed = (removed.rowCount ?? 0) + (upserted.rowCount ?? 0) > 0;
    if (changed) {
      await client.query('SELECT pg_notify($1, $2)', [
        eworkerRegistryChannel(dbSchema),
        registration.name,
      ]);
    }
    await client.query('COMMIT');
    return changed;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}
