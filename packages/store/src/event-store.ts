import type { Pool } from 'pg';
import { toOutboxRow } from './event-rows';
import { outboxChannel } from './notify-channels';
import { pgArray } from './pg-array';
import { inTransaction } from './transaction';
import type {
  EventListFilter,
  IdempotencyCompletion,
  NewEventRow,
  OutboxRecord,
  OutboxRow,
  StoredEvent,
} from './event-rows';

interface EventRecord {
  seq: string;
  tenant_id: string;
  event_id: string;
  revision: number;
  event_type: string;
  occurred_at: Date;
  data: unknown;
  received_at: Date;
  published_at: Date | null;
  ordering_key: string | null;
  traceparent: string | null;
  tracestate: string | null;
}

// published_at: the time of the relay round that published the row (see published_rounds)
const EVENT_COLUMNS =
  'seq, tenant_id, event_id, revision, event_type, occurred_at, data, received_at, ' +
  'reten_published_at(stream_position, published_at) AS published_at, ' +
  'ordering_key, traceparent, tracestate';

function toStored(r: EventRecord): StoredEvent {
  return {
    seq: r.seq,
    tenantId: r.tenant_id,
    eventId: r.event_id,
    revision: r.revision,
    eventType: r.event_type,
    occurredAt: r.occurred_at,
    data: r.data,
    receivedAt: r.received_at,
    publishedAt: r.published_at,
    orderingKey: r.ordering_key,
    traceparent: r.traceparent,
    tracestate: r.tracestate,
  };
}

/** No database connection could be had: the statement was never sent, so it surely did not run. */
export class NotConnectedError extends Error {
  readonly notConnected = true;
  constructor(cause: unknown) {
    super('no database connection', { cause });
    this.name = 'NotConnectedError';
  }
}

/** Whether `err` is a `NotConnectedError` (a brand check, valid across package copies). */
export function isNotConnectedError(err: unknown): boolean {
  return (err as { notConnected?: unknown } | null)?.notConnected === true;
}

/** Reads and writes the `events` log. Every read is scoped to a tenant. */
export class EventStore {
  private readonly channel: string;

  constructor(
    private readonly pool: Pool,
    schema: string,
  ) {
    this.channel = outboxChannel(schema);
  }

  /**
   * Inserts a batch of new events and completes their Idempotency-Key records in one
   * transaction, then wakes the relay. Returns the rows' `seq` in input order.
   */
  async insertBatch(rows: NewEventRow[], completions: IdempotencyCompletion[]): Promise<string[]> {
    // One statement is one transaction: a single round trip and a single commit for the whole
    // batch (the group commit's cost), prepared once per connection. Data-modifying CTEs always
    // run. The batch takes its stream positions here, from the counter: the counter's row lock is
    // held until the commit, so positions become visible in increasing order without gaps (the
    // relay's invariant), and the relay publishes these rows without writing them a second time
    // (an UPDATE of `events` rewrites the row and every index entry). The lock is held only by
    // this one statement on the server, never across a client round trip. Revisions and system
    // events (rare) are inserted without a position, and the relay gives them theirs.
    // No NOTIFY in it: PostgreSQL serialises every committing transaction that notified,
    // cluster-wide, through its WAL flush, which halved commit throughput under load; the caller
    // wakes the relay after the commit (`wakeRelay`), and the relay polls as well.
    // connect apart from the statement: a failure to connect surely stored nothing, while a
    // connection that breaks once the statement went out leaves the commit's outcome unknown
    const client = await this.pool.connect().catch((err: unknown) => {
      throw new NotConnectedError(err);
    });
    // the connection may break mid-statement: that reaches the caller as the query's error
    const ignore = () => undefined;
    client.on('error', ignore);
    let inserted: { rows: { seq: string }[] };
    try {
      inserted = await client.query<{ seq: string }>({
        name: 'reten_events_insert_batch',
        text: `WITH data AS MATERIALIZED (
               -- one value per event, or the statement fails as a data exception (as a value
               -- that is not JSON does): elements that are not one JSON value each could
               -- otherwise join into an array of another length, and shift the data of rows
               SELECT CASE WHEN jsonb_array_length(j) = cardinality($1::text[]) THEN j
                           ELSE (jsonb_array_length(j) || ' data values for '
                                 || cardinality($1::text[]) || ' events')::jsonb END AS a
                 FROM (SELECT $6::jsonb AS j) p
             ), counter AS (
               UPDATE stream_position_counter
                  SET last_position = last_position + cardinality($1::text[])
               RETURNING last_position - cardinality($1::text[]) AS base
             ), inserted AS (
               INSERT INTO events (tenant_id, event_id, revision, event_type, occurred_at, data,
                                   ordering_key, traceparent, tracestate, stream_position)
               SELECT r.tenant_id, r.event_id, r.revision, r.event_type, r.occurred_at,
                      (SELECT a FROM data) -> (r.n::int - 1),
                      r.ordering_key, r.traceparent, r.tracestate, c.base + r.n
                 FROM counter c,
                      unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::timestamptz[],
                             $11::text[], $12::text[], $13::text[])
                        WITH ORDINALITY AS r(tenant_id, event_id, revision, event_type, occurred_at,
                                             ordering_key, traceparent, tracestate, n)
                ORDER BY r.n
               RETURNING seq
             ), completed AS (
               UPDATE idempotency_keys k
                  SET state = 'completed', response_status = c.status, response_body = to_jsonb(c.body)
                 FROM unnest($7::text[], $8::text[], $9::int[], $10::text[]) AS c(tenant_id, key, status, body)
                WHERE k.tenant_id = c.tenant_id AND k.idempotency_key = c.key
               RETURNING 1
             )
             SELECT seq FROM inserted`,
        values: [
          pgArray(rows.map((r) => r.tenantId)),
          pgArray(rows.map((r) => r.eventId)),
          pgArray(rows.map((r) => r.revision)),
          pgArray(rows.map((r) => r.eventType)),
          pgArray(rows.map((r) => r.occurredAt.toISOString())),
          // the events' data as one JSON array (each is JSON text already: nothing to escape),
          // parsed once and taken apart by position
          `[${rows.map((r) => r.dataJson).join(',')}]`,
          pgArray(completions.map((c) => c.tenantId)),
          pgArray(completions.map((c) => c.key)),
          pgArray(completions.map((c) => c.status)),
          pgArray(completions.map((c) => c.bodyJson)),
          pgArray(rows.map((r) => r.orderingKey ?? null)),
          pgArray(rows.map((r) => r.traceparent ?? null)),
          pgArray(rows.map((r) => r.tracestate ?? null)),
        ],
      });
    } catch (err) {
      // a connection that broke is not given back to the pool for reuse
      client.release(err instanceof Error ? err : true);
      throw err;
    }
    client.off('error', ignore);
    client.release();
    return inserted.rows.map((r) => r.seq);
  }

  /**
   * Wakes the relay (NOTIFY on the outbox channel, its own short transaction): after
   * `insertBatch` committed. A relay that misses it finds the rows on its next poll.
   * A NOTIFY takes a transaction id, so its commit is a WAL record that would be flushed to
   * disk like the group commit's, a second fsync per batch; nothing is lost if this one is not
   * (the rows are committed already), so it commits asynchronously: `set_config(…, true)` holds
   * for this statement's own transaction, whose commit reads it.
   */
  async wakeRelay(): Promise<void> {
    await this.pool.query({
      name: 'reten_outbox_wake',
      text: "SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, '')",
      values: [this.channel],
    });
  }

  /**
   * Which of these new events (revision 1) are stored: after a connection broke mid-commit,
   * tells a committed batch from a lost one (a batch is one statement: all or none).
   */
  async storedEventIds(rows: { tenantId: string; eventId: string }[]): Promise<Set<string>> {
    const res = await this.pool.query<{ event_id: string }>(
      `SELECT e.event_id FROM events e
         JOIN unnest($1::text[], $2::text[]) AS r(tenant_id, event_id)
           ON e.tenant_id = r.tenant_id AND e.event_id = r.event_id AND e.revision = 1`,
      [pgArray(rows.map((r) => r.tenantId)), pgArray(rows.map((r) => r.eventId))],
    );
    return new Set(res.rows.map((r) => r.event_id));
  }

  /** The current revision of an event, or undefined. */
  async getCurrent(tenantId: string, eventId: string): Promise<StoredEvent | undefined> {
    const res = await this.pool.query<EventRecord>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE tenant_id = $1 AND event_id = $2 AND is_current`,
      [tenantId, eventId],
    );
    const row = res.rows[0];
    return row ? toStored(row) : undefined;
  }

  /** Current revisions, newest first, `limit` at most. */
  async list(filter: EventListFilter): Promise<StoredEvent[]> {
    const res = await this.pool.query<EventRecord>(
      `SELECT ${EVENT_COLUMNS} FROM events
        WHERE tenant_id = $1 AND is_current
          AND ($2::text IS NULL OR event_type = $2)
          AND ($3::text IS NULL OR event_type LIKE $3)
          AND ($4::timestamptz IS NULL OR occurred_at >= $4)
          AND ($5::timestamptz IS NULL OR occurred_at < $5)
          AND ($6::text IS NULL OR event_id < $6)
        ORDER BY event_id DESC
        LIMIT $7`,
      [
        filter.tenantId,
        filter.typeExact ?? null,
        filter.typeLike ?? null,
        filter.since?.toISOString() ?? null,
        filter.until?.toISOString() ?? null,
        filter.beforeEventId ?? null,
        filter.limit,
      ],
    );
    return res.rows.map(toStored);
  }

  /**
   * Stores a new revision of an existing event. `expectedRevision` (from If-Match) must equal
   * the current revision. The revision keeps the event's type and ordering key; its trace
   * context is the one of the request that made it (none when `change.trace` is absent).
   * Returns the new revision, 'not_found', `{ conflict }` (If-Match) or `{ immutableOrderingKey }` when
   * `change.orderingKey` is given and is not the event's key.
   */
  async insertRevision(
    tenantId: string,
    eventId: string,
    expectedRevision: number | undefined,
    change: {
      dataJson: string;
      occurredAt?: Date;
      orderingKey?: string;
      trace?: { traceparent: string; tracestate?: string | undefined };
    },
  ): Promise<
    StoredEvent | 'not_found' | { conflict: number } | { immutableOrderingKey: string | null }
  > {
    return inTransaction(this.pool, async (client) => {
      const current = await client.query<EventRecord>(
        `SELECT ${EVENT_COLUMNS} FROM events
          WHERE tenant_id = $1 AND event_id = $2 AND is_current FOR UPDATE`,
        [tenantId, eventId],
      );
      const row = current.rows[0];
      if (!row) return 'not_found';
      if (expectedRevision !== undefined && expectedRevision !== row.revision) {
        return { conflict: row.revision };
      }
      if (change.orderingKey !== undefined && change.orderingKey !== row.ordering_key) {
        return { immutableOrderingKey: row.ordering_key };
      }
      await client.query('UPDATE events SET is_current = false WHERE seq = $1', [row.seq]);
      const inserted = await client.query<EventRecord>(
        `INSERT INTO events (tenant_id, event_id, revision, event_type, occurred_at, data,
                             ordering_key, traceparent, tracestate)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9)
         RETURNING ${EVENT_COLUMNS}`,
        [
          tenantId,
          eventId,
          row.revision + 1,
          row.event_type,
          (change.occurredAt ?? row.occurred_at).toISOString(),
          change.dataJson,
          row.ordering_key,
          change.trace?.traceparent ?? null,
          change.trace?.tracestate ?? null,
        ],
      );
      await client.query('SELECT pg_notify($1, $2)', [this.channel, '']);
      const stored = inserted.rows[0];
      if (!stored) throw new Error('insert returned no row');
      return toStored(stored);
    });
  }

  /**
   * The next unpublished revisions in publish order, each with its stream position: at most
   * `limit` of them and, past the first, at most about `maxBytes` of data. Published means
   * positioned at or below the newest `published_rounds` mark. New events come positioned by
   * their group commit; rows without a position (revisions, system events) get the next ones
   * here, in seq order, after every positioned row, before the relay publishes them. A row keeps
   * its position, so a republished batch keeps its positions and its order.
   *
   * Two statements, because planning is most of what a round costs PostgreSQL: each walk of a
   * partitioned table plans every partition and its indexes (~1.8 ms for the numbering
   * statement with 5 partitions, more than the round's inserts; a plan kept across rounds is
   * no way out, since a partition created empty keeps a sequential scan in a kept plan until
   * it is analysed). The common round, with every waiting row positioned, is one SELECT that
   * walks the table once and reads each row's data there (~0.8 ms). It also says whether any row
   * waits without a position; only then does the round take the numbering statement below.
   */
  async unpublished(limit: number, maxBytes = Number.MAX_SAFE_INTEGER): Promise<OutboxRow[]> {
    const fast = await this.pool.query<OutboxRecord & { unnumbered: boolean }>(
      // the same rows, limits and order as the numbering statement below gives when no row waits
      // without a position (its snapshot says so: `unnumbered`). The data of rows past the byte
      // limit is never read: pg_column_size reads the stored size, and only the rows kept are
      // turned into text. One row with nulls when nothing is positioned past the mark.
      `WITH oldest AS (
         SELECT seq, tenant_id, event_id, revision, event_type, occurred_at, data, received_at,
                stream_position, ordering_key, traceparent, tracestate,
                pg_column_size(data) AS size
           FROM events WHERE stream_position > (SELECT reten_published_through())
          ORDER BY stream_position LIMIT $1
       ), sized AS (
         SELECT *, row_number() OVER w AS n, sum(size) OVER w AS running
           FROM oldest WINDOW w AS (ORDER BY stream_position)
       )
       SELECT f.unnumbered, s.seq, s.tenant_id, s.event_id, s.revision, s.event_type,
              s.occurred_at, s.data::text AS data, s.received_at,
              s.stream_position::text AS stream_position, s.ordering_key, s.traceparent,
              s.tracestate
         FROM (SELECT EXISTS (SELECT 1 FROM events WHERE stream_position IS NULL) AS unnumbered) f
         LEFT JOIN sized s ON s.n = 1 OR s.running <= $2
        ORDER BY s.n`,
      [limit, maxBytes],
    );
    if (fast.rows[0]?.unnumbered !== true)
      return fast.rows.filter((r) => r.seq !== null).map(toOutboxRow);
    const res = await this.pool.query<OutboxRecord>(
      // at most `limit` rows and, past the first, `maxBytes` of stored data (pg_column_size:
      // jsonb as stored, possibly compressed), so a burst of large events cannot fill memory.
      // Both parts come by each partition's unique index on stream_position (nulls too).
      // The counter's row lock orders two relays of a leadership hand-over; a row positioned by
      // the other one meanwhile is skipped (EvalPlanQual rechecks `stream_position IS NULL`).
      `WITH oldest AS (
         (SELECT seq, event_id, stream_position, pg_column_size(data) AS size
            FROM events WHERE stream_position > reten_published_through()
           ORDER BY stream_position LIMIT $1)
         UNION ALL
         (SELECT seq, event_id, stream_position, pg_column_size(data) AS size
            FROM events WHERE stream_position IS NULL
           ORDER BY seq LIMIT $1)
       ), sized AS (
         SELECT seq, event_id, stream_position, row_number() OVER w AS n,
                sum(size) OVER w AS running
           FROM oldest WINDOW w AS (ORDER BY stream_position NULLS LAST, seq)
       ), batch AS (
         SELECT seq, event_id, stream_position, n FROM sized WHERE n <= $1 AND (n = 1 OR running <= $2)
       ), fresh AS (
         SELECT seq, event_id, row_number() OVER (ORDER BY n) AS k
           FROM batch WHERE stream_position IS NULL
       ), counter AS (
         -- only while the counter is as this statement's snapshot saw it: a group commit that
         -- took positions after the snapshot (or holds the counter now) has rows this statement
         -- cannot see, and numbering past them would publish them after larger positions. The
         -- recheck reads the row's newest version; the subquery keeps the snapshot's value.
         -- The rows wait for the next round then.
         UPDATE stream_position_counter
            SET last_position = last_position + (SELECT count(*) FROM fresh)
          WHERE EXISTS (SELECT 1 FROM fresh)
            AND last_position = (SELECT last_position FROM stream_position_counter)
         RETURNING last_position - (SELECT count(*) FROM fresh) AS base
       ), assigned AS (
         UPDATE events e SET stream_position = c.base + f.k
           FROM fresh f, counter c
          WHERE e.event_id = f.event_id AND e.seq = f.seq AND e.stream_position IS NULL
         RETURNING e.seq, e.stream_position
       )
       SELECT e.seq, e.tenant_id, e.event_id, e.revision, e.event_type, e.occurred_at,
              e.data::text AS data, e.received_at,
              coalesce(b.stream_position, a.stream_position)::text AS stream_position,
              e.ordering_key, e.traceparent, e.tracestate
         FROM batch b
         JOIN events e ON e.event_id = b.event_id AND e.seq = b.seq
         LEFT JOIN assigned a ON a.seq = b.seq
        WHERE coalesce(b.stream_position, a.stream_position) IS NOT NULL
        ORDER BY b.n`,
      [limit, maxBytes],
    );
    return res.rows.map(toOutboxRow);
  }

  /**
   * Marks every revision positioned at or below `position` published (the broker confirmed the
   * relay's batch up to it): one `published_rounds` row, no event is rewritten. A mark below
   * the newest one (a relay that lost the lead confirming late) changes nothing it says.
   * It commits asynchronously (`synchronous_commit` off for this statement's transaction only):
   * the relay does not wait for a WAL flush per round, and a mark lost in a server crash only
   * makes the next leader publish that round again, which consumers dedupe. The next synchronous
   * commit (any group commit) flushes it with its own.
   */
  async markPublishedThrough(position: string): Promise<void> {
    await this.pool.query({
      name: 'reten_outbox_mark',
      text: `WITH async AS (SELECT set_config('synchronous_commit', 'off', true))
             INSERT INTO published_rounds (last_position)
             SELECT $1::bigint FROM async ON CONFLICT DO NOTHING`,
      values: [position],
    });
  }

  /** How many revisions wait for the relay. */
  async backlog(): Promise<number> {
    return (await this.outboxLag()).backlog;
  }

  /** Revisions waiting for the relay, and the age of the oldest (0 when none waits). */
  async outboxLag(): Promise<{ backlog: number; oldestAgeSeconds: number }> {
    const res = await this.pool.query<{ n: string; age: number | null }>(
      `SELECT count(*)::bigint AS n,
              extract(epoch FROM now() - min(received_at))::float8 AS age
         FROM outbox`,
    );
    const row = res.rows[0];
    return { backlog: Number(row?.n ?? 0), oldestAgeSeconds: Math.max(0, row?.age ?? 0) };
  }
}
