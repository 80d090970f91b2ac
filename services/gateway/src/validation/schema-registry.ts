import Ajv2020 from 'ajv/dist/2020';
import type { AnySchemaObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { fullFormats } from 'ajv-formats/dist/formats';
import type { ClientConfig } from 'pg';
import { RetenError, isStorableTimestamp } from '@reten/contracts';
import type { ErrorDetail } from '@reten/contracts';
import type { Logger } from '@reten/observability';
import { PgListener } from '@reten/store';
import type { Pool } from '@reten/store';
import { ajvErrorsToDetails } from './ajv-details';

interface RegistrationRow {
  event_type: string;
  eworker: string;
  json_schema: AnySchemaObject;
  version: string;
}

interface Compiled {
  key: string;
  eworker: string;
  schema: AnySchemaObject;
  validate: ValidateFunction;
}

/** Most `details` entries one 422 answer lists. */
export const MAX_DETAILS = 50;

export interface SchemaRegistryOptions {
  pool: Pool;
  /** For the dedicated LISTEN connection. */
  clientConfig: ClientConfig;
  channel: string;
  pollIntervalMs: number;
  log: Logger;
}

/**
 * The JSON Schemas eworkers registered, compiled once per registration version (Ajv, draft
 * 2020-12). Reloaded on NOTIFY from a registering eworker, and by polling as a fallback when
 * the LISTEN connection is down, so a new registration takes effect without a restart.
 */
export class SchemaRegistry {
  private readonly ajv: Ajv2020;
  private byType = new Map<string, Compiled[]>();
  private readonly listener: PgListener;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private again = false;

  constructor(private readonly options: SchemaRegistryOptions) {
    this.ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats(this.ajv);
    // a `date-time` an eworker cannot store (year 0000 is valid RFC 3339 but not a PostgreSQL
    // timestamp) would be accepted, then fail in the eworker every time and be parked
    const rfc3339 = fullFormats['date-time'] as {
      validate: (value: string) => boolean;
      compare: (a: string, b: string) => number | undefined;
    };
    this.ajv.addFormat('date-time', {
      type: 'string',
      validate: (value: string) => rfc3339.validate(value) && isStorableTimestamp(value),
      compare: rfc3339.compare,
    });
    const refresh = () => this.refreshInBackground();
    this.listener = new PgListener({
      name: 'eworker schemas',
      connection: { clientConfig: options.clientConfig },
      channels: { [options.channel]: refresh },
      // a registration between the last load and LISTEN would otherwise wait for the poll
      onListening: refresh,
      log: options.log,
    });
  }

  async start(): Promise<void> {
    await this.refresh();
    // while the LISTEN connection is down (it reconnects by itself) the poll below reloads
    await this.listener.start();
    this.timer = setInterval(() => this.refreshInBackground(), this.options.pollIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.listener.stop();
    await this.refreshing?.catch(() => undefined);
  }

  /** Throws 422 `validation_failed` naming each failing path when `data` is invalid for `type`. */
  validate(type: string, data: unknown, location: string): void {
    const compiled = this.byType.get(type);
    if (!compiled) return; // no eworker registered: any JSON is accepted
    const details: ErrorDetail[] = [];
    for (const c of compiled) {
      if (!c.validate(data)) details.push(...ajvErrorsToDetails(location, c.validate.errors ?? []));
    }
    if (details.length > 0) {
      const first = details[0];
      throw new RetenError(
        'validation_failed',
        `The data is not valid for event type ${type}${first ? `: ${first.path} ${first.message}` : ''}`,
        // allErrors on a large invalid array would otherwise answer with one entry per item
        details.slice(0, MAX_DETAILS),
      );
    }
  }

  /** Reloads the registrations; concurrent calls coalesce (one more round after the current). */
  async refresh(): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.again = false;
        await this.load();
      } while (this.again);
    })().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private refreshInBackground(): void {
    void this.refresh().catch((err: unknown) =>
      this.options.log.warn({ err }, 'schema registry refresh failed'),
    );
  }

  private async load(): Promise<void> {
    const res = await this.options.pool.query<RegistrationRow>(
      'SELECT event_type, eworker, json_schema, version::text AS version FROM event_type_schemas ORDER BY event_type, eworker',
    );
    const previous = new Map<string, Compiled>();
    for (const list of this.byType.values()) for (const c of list) previous.set(c.key, c);
    const next = new Map<string, Compiled[]>();
    for (const row of res.rows) {
      const key = `${row.event_type}\n${row.eworker}\n${row.version}`;
      let compiled = previous.get(key);
      previous.delete(key);
      if (!compiled) {
        try {
          compiled = {
            key,
            eworker: row.eworker,
            schema: row.json_schema,
            validate: this.ajv.compile(row.json_schema),
          };
        } catch (err) {
          // a schema Ajv cannot compile must not make the type unvalidated silently
          this.options.log.error(
            { err, eventType: row.event_type, eworker: row.eworker },
            'registered schema does not compile',
          );
          continue;
        }
      }
      const list = next.get(row.event_type) ?? [];
      list.push(compiled);
      next.set(row.event_type, list);
    }
    this.byType = next;
    for (const stale of previous.values()) this.ajv.removeSchema(stale.schema);
  }
}
