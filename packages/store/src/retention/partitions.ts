import type { Pool, PoolClient } from 'pg';
import { inTransaction } from '../transaction';
import { eventKeyAt, timeOfEventKey } from './event-key';

/** How a table is partitioned: by `evt_` + ULID id ranges, or by a timestamptz column. */
export type KeyKind = 'event_id' | 'time';

export interface RetentionTable {
  parent: string;
  keyKind: KeyKind;
}

/** One partition and its range; a bound is undefined for MINVALUE / MAXVALUE. */
export interface PartitionInfo {
  name: string;
  /** The bounds as SQL literals, exactly as the catalog has them. */
  lowerLiteral: string | undefined;
  upperLiteral: string | undefined;
  /** The instants the bounds stand for (ms since the epoch). */
  lowerMs: number | undefined;
  upperMs: number | undefined;
}

/** What dropping one partition removed. */
export interface DroppedPartition {
  table: string;
  partition: string;
  /** The statistics' live rows (n_live_tup, else reltuples): counting would read the partition. */
  rows: number;
  bytes: number;
}

const BOUND = /^FOR VALUES FROM \((.+)\) TO \((.+)\)$/s;
/** At most this many partitions are created in one pass (a tiny size cannot run away). */
const MAX_CREATE_PER_PASS = 200;
/** RETENTION_PARTITION_SECONDS' default, for a process that does not know the setting. */
export const DEFAULT_PARTITION_SECONDS = 7 * 86_400;

/** `'it''s'` → `it's`; undefined for MINVALUE / MAXVALUE. */
function unquote(literal: string): string | undefined {
  if (literal === 'MINVALUE' || literal === 'MAXVALUE') return undefined;
  return literal.slice(1, -1).replace(/''/g, "'");
}

function quote(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** A timestamptz as PostgreSQL prints it (`2026-12-01 05:00:00.5+01`), in ms. */
function parseTimestamp(text: string): number {
  const iso = text.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00');
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`unreadable partition bound ${text}`);
  return ms;
}

function boundMs(kind: KeyKind, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  return kind === 'time' ? parseTimestamp(text) : timeOfEventKey(text);
}

function partitionName(parent: string, lowerMs: number): string {
  const stamp = new Date(lowerMs).toISOString().replace(/[^0-9]/g, '');
  return `${parent}_p${stamp}`;
}

/**
 * The partitions of the tables retention manages (`retention_tables`): reads their ranges from
 * the catalog, creates the ones ahead, drops whole expired ones. Every DDL statement runs in its
 * own short transaction under `lock_timeout`, so it never queues for long in front of traffic.
 */
export class Partitions {
  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
  ) {}

  /** The tables retention manages; none before the retention migration ran. */
  async tables(): Promise<RetentionTable[]> {
    const exists = await this.pool.query<{ t: string | null }>(
      "SELECT to_regclass('retention_tables')::text AS t",
    );
    if (exists.rows[0]?.t == null) return [];
    const res = await this.pool.query<{ parent: string; key_kind: KeyKind }>(
      'SELECT parent, key_kind FROM retention_tables ORDER BY parent',
    );
    return res.rows.map((r) => ({ parent: r.parent, keyKind: r.key_kind }));
  }

  /** The partitions of `table`, by lower bound. */
  async list(
    table: RetentionTable,
    client: Pool | PoolClient = this.pool,
  ): Promise<PartitionInfo[]> {
    const res = await client.query<{ name: string; bound: string }>(
      `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = to_regclass($1)`,
      [table.parent],
    );
    const parts = res.rows.map((r) => {
      const m = BOUND.exec(r.bound);
      if (!m?.[1] || !m[2]) throw new Error(`unreadable bound of ${r.name}: ${r.bound}`);
      const lower = unquote(m[1]);
      const upper = unquote(m[2]);
      return {
        name: r.name,
        lowerLiteral: lower === undefined ? undefined : m[1],
        upperLiteral: upper === undefined ? undefined : m[2],
        lowerMs: boundMs(table.keyKind, lower),
        upperMs: boundMs(table.keyKind, upper),
      };
    });
    return parts.sort((a, b) => (a.lowerMs ?? -Infinity) - (b.lowerMs ?? -Infinity));
  }

  /**
   * Creates partitions of `partitionMs` each (aligned on multiples of it since the epoch) until
   * `aheadMs(partitionMs)` past `nowMs` is covered, starting where the newest time partition
   * ends; a gap left while nothing ran is closed with one partition up to the current one.
   * `partitionMs` undefined: the size of the newest partition (a process that does not know the
   * setting keeps it), or DEFAULT_PARTITION_SECONDS. Returns the names created.
   */
  async ensureAhead(
    table: RetentionTable,
    nowMs: number,
    requestedPartitionMs: number | undefined,
    aheadMs: (partitionMs: number) => number,
    lockTimeoutMs: number,
  ): Promise<string[]> {
    const created: string[] = [];
    // one partition per transaction: a transaction holds the locks of what it created until it
    // ends, and hundreds at once would fill the server's shared lock table
    while (created.length < MAX_CREATE_PER_PASS) {
      const name = await this.withLockTimeout(lockTimeoutMs, (client) =>
        this.createNext(client, table, nowMs, requestedPartitionMs, aheadMs),
      );
      if (name === undefined) break;
      created.push(name);
    }
    return created;
  }

  /** Creates the partition after the newest one if it is needed; its name, or undefined. */
  private async createNext(
    client: PoolClient,
    table: RetentionTable,
    nowMs: number,
    requestedPartitionMs: number | undefined,
    aheadMs: (partitionMs: number) => number,
  ): Promise<string | undefined> {
    // one creator per schema at a time: migrations and runners may overlap
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
      `reten.partitions.${this.schema}`,
    ]);
    const timed = (await this.list(table, client)).filter(
      (p) => p.upperLiteral !== undefined && p.upperMs !== undefined,
    );
    const top = timed.reduce<PartitionInfo | undefined>(
      (best, p) => (best && (best.upperMs ?? 0) >= (p.upperMs ?? 0) ? best : p),
      undefined,
    );
    if (!top?.upperLiteral || top.upperMs === undefined) {
      throw new Error(`${table.parent} has no time partition to continue from`);
    }
    const partitionMs = requestedPartitionMs ?? sizeOfNewest(timed);
    const lowerMs = top.upperMs;
    if (lowerMs >= nowMs + aheadMs(partitionMs)) return undefined;
    const current = Math.floor(nowMs / partitionMs) * partitionMs;
    const upperMs =
      lowerMs < current ? current : (Math.floor(lowerMs / partitionMs) + 1) * partitionMs;
    const upper = table.keyKind === 'time' ? new Date(upperMs).toISOString() : eventKeyAt(upperMs);
    const name = partitionName(table.parent, lowerMs);
    await client.query('SELECT reten_create_partition($1, $2, $3, $4)', [
      table.parent,
      name,
      top.upperLiteral,
      quote(upper),
    ]);
    return name;
  }

  /**
   * Drops `partition` of `table` unless `keep` finds a reason in it (a SQL condition on its
   * rows, e.g. events not yet published); undefined when it was kept. The parent and the
   * partition are locked first (in that order, as queries take them), under `lock_timeout`.
   */
  async drop(
    table: RetentionTable,
    partition: string,
    keep: string | undefined,
    lockTimeoutMs: number,
  ): Promise<DroppedPartition | undefined> {
    return this.withLockTimeout(lockTimeoutMs, async (client) => {
      const parent = ident(table.parent);
      const part = ident(partition);
      await client.query(`LOCK TABLE ONLY ${parent}, ${part} IN ACCESS EXCLUSIVE MODE`);
      if (keep) {
        const kept = await client.query(`SELECT 1 FROM ${part} WHERE ${keep} LIMIT 1`);
        if ((kept.rowCount ?? 0) > 0) return undefined;
      }
      const size = await client.query<{ bytes: string; rows: number }>(
        `SELECT pg_total_relation_size(c.oid)::text AS bytes,
                coalesce(s.n_live_tup, greatest(c.reltuples, 0))::float8 AS rows
           FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
          WHERE c.oid = to_regclass($1)`,
        [partition],
      );
      await client.query(`DROP TABLE ${part}`);
      return {
        table: table.parent,
        partition,
        rows: size.rows[0]?.rows ?? 0,
        bytes: Number(size.rows[0]?.bytes ?? 0),
      };
    });
  }

  /** A short transaction whose statements wait at most `lockTimeoutMs` for a lock. */
  private withLockTimeout<T>(
    lockTimeoutMs: number,
    work: (client: PoolClient) => Promise<T>,
  ): Promise<T> {
    return inTransaction(this.pool, async (client) => {
      await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(lockTimeoutMs))}`);
      return work(client);
    });
  }
}

/** The span of the newest regular partition (aligned on its own size; a gap one is not). */
function sizeOfNewest(parts: PartitionInfo[]): number {
  const regular = parts
    .filter((p) => p.lowerMs !== undefined && p.upperMs !== undefined)
    .map((p) => ({ lower: p.lowerMs ?? 0, span: (p.upperMs ?? 0) - (p.lowerMs ?? 0) }))
    .filter((p) => p.span > 0 && p.lower % p.span === 0)
    .sort((a, b) => b.lower - a.lower);
  return regular[0]?.span ?? DEFAULT_PARTITION_SECONDS * 1000;
}

function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
