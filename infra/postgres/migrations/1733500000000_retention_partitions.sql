-- Up Migration

-- Retention: the big tables become range-partitioned by time so that expired data goes by
-- DROP TABLE of a whole partition (no row deletes, no bloat, no long vacuum). See
-- docs/operations.md, "Retention".
--
-- Partition keys keep every unique guarantee, because each unique constraint already holds
-- the key:
-- - events, eworker_marks, client_log_lines, webhook_deliveries: by event_id. Event ids are
--   `evt_` + ULID, whose first ten characters encode the creation time in milliseconds and
--   sort as time, so a range of ids is a range of time. Every revision of an event, and every
--   mark, log line and delivery of it, falls in the partition of the event's creation:
--   UNIQUE (event_id, revision), the partial unique "one current revision" index,
--   PRIMARY KEY (eworker, event_id, revision), UNIQUE (event_id, revision, line_no) and
--   UNIQUE (endpoint_id, event_id, revision) stay enforced by the database.
-- - webhook_attempts: by started_at (attempts have no unique key but their identity id).
-- Keys that do not hold the partition key (events.seq, events.stream_position, the identity
-- ids, webhook_deliveries.id) are unique per partition (an index per partition, see
-- reten_create_partition) and globally by construction: an identity sequence, the relay's
-- position counter, ULIDs.
--
-- Conversion without copying a row: each table is renamed `<table>_legacy` and attached to a
-- new partitioned table of the same columns (LIKE: columns added by earlier migrations are
-- kept) as the partition of every key below the migration's start; its indexes become the
-- partitions of the parent's indexes (no rebuild). ATTACH validates the range with one read of
-- the table. Rows with ids that are not `evt_` + ULID (made by hand) are moved to the
-- `<table>_other` partition, which retention never drops. The first time partition and those
-- ahead are created by runMigrations / the retention runner (RETENTION_PARTITION_SECONDS).

-- `evt_` + the ten ULID characters of a time in ms: the event-id bound of that instant.
CREATE FUNCTION reten_event_key(ms bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT 'evt_' || string_agg(
           substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', ((ms >> (5 * (9 - i))) & 31)::int + 1, 1),
           '' ORDER BY i)
    FROM generate_series(0, 9) AS i
$$;

-- Every ULID event id sorts below this (a ULID's first character is at most 7).
CREATE FUNCTION reten_event_key_other() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'evt_8' $$;

-- The partitioned tables, their key kind, and the unique indexes each partition carries on
-- its own (keys without the partition key, unique by construction across partitions).
CREATE TABLE retention_tables (
  parent        text   PRIMARY KEY,
  key_column    text   NOT NULL,
  key_kind      text   NOT NULL CHECK (key_kind IN ('event_id', 'time')),
  local_uniques text[] NOT NULL DEFAULT '{}'
);

-- Creates partition `name` of `parent` for [lower, upper) (bounds as SQL literals or
-- MINVALUE/MAXVALUE) with the table's local unique indexes.
CREATE FUNCTION reten_create_partition(p_parent text, p_name text, p_lower text, p_upper text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  cols text;
BEGIN
  EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%s) TO (%s)',
                 p_name, p_parent, p_lower, p_upper);
  FOR cols IN SELECT unnest(local_uniques) FROM retention_tables WHERE parent = p_parent LOOP
    EXECUTE format('CREATE UNIQUE INDEX ON %I (%s)', p_name, cols);
  END LOOP;
END;
$$;

-- Converts `tbl` in place (see above). `p_first_upper`: the legacy partition's upper bound.
CREATE FUNCTION reten_partition_existing(p_tbl text, p_key text, p_kind text, p_first_upper text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  legacy   text := p_tbl || '_legacy';
  r        record;
  locals   text[] := '{}';
  seq_name text;
  last_val bigint;
BEGIN
  EXECUTE format('ALTER TABLE %I RENAME TO %I', p_tbl, legacy);
  -- the legacy table's names move aside; the parent takes the original ones
  FOR r IN SELECT c.conname, c.contype, pg_get_constraintdef(c.oid) AS def,
                  (SELECT array_agg(a.attname::text) FROM pg_attribute a
                    WHERE a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)) AS cols
             FROM pg_constraint c
            WHERE c.conrelid = legacy::regclass AND c.contype IN ('p', 'u')
  LOOP
    EXECUTE format('ALTER TABLE %I RENAME CONSTRAINT %I TO %I', legacy, r.conname,
                   left(r.conname, 55) || '_legacy');
  END LOOP;
  FOR r IN SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
            WHERE x.indrelid = legacy::regclass
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
  LOOP
    EXECUTE format('ALTER INDEX %I RENAME TO %I', r.relname, left(r.relname, 55) || '_legacy');
  END LOOP;

  EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING GENERATED'
                 ' INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMMENTS)'
                 ' PARTITION BY RANGE (%I)', p_tbl, legacy, p_key);
  -- the parent's identity continues the legacy table's sequence; the legacy column drops its
  -- own (a partition takes the parent's)
  FOR r IN SELECT a.attname FROM pg_attribute a
            WHERE a.attrelid = legacy::regclass AND a.attidentity <> '' AND NOT a.attisdropped
  LOOP
    seq_name := pg_get_serial_sequence(quote_ident(legacy), r.attname);
    EXECUTE format('SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM %s',
                   seq_name) INTO last_val;
    EXECUTE format('ALTER TABLE %I ALTER COLUMN %I DROP IDENTITY', legacy, r.attname);
    EXECUTE format('ALTER TABLE %I ALTER COLUMN %I RESTART WITH %s', p_tbl, r.attname,
                   greatest(last_val + 1, 1));
  END LOOP;

  -- unique constraints that hold the key move to the parent; the others stay local
  FOR r IN SELECT c.conname, c.contype, pg_get_constraintdef(c.oid) AS def,
                  (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.ord)
                     FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
                     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) AS cols,
                  EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.conrelid
                           AND a.attnum = ANY (c.conkey) AND a.attname = p_key) AS has_key
             FROM pg_constraint c
            WHERE c.conrelid = legacy::regclass AND c.contype IN ('p', 'u', 'f')
            ORDER BY c.contype DESC
  LOOP
    IF r.contype = 'f' OR r.has_key THEN
      EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I %s', p_tbl,
                     regexp_replace(r.conname, '_legacy$', ''), r.def);
    ELSE
      locals := locals || r.cols;
    END IF;
  END LOOP;
  -- plain indexes (and unique ones that hold the key) too
  FOR r IN SELECT i.relname, x.indisunique, pg_get_indexdef(x.indexrelid) AS def,
                  EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = x.indrelid
                           AND a.attnum = ANY (x.indkey::int2[]) AND a.attname = p_key) AS has_key
             FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
            WHERE x.indrelid = legacy::regclass
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
  LOOP
    IF r.indisunique AND NOT r.has_key THEN
      RAISE EXCEPTION 'unique index % of % lacks the partition key %', r.relname, p_tbl, p_key;
    END IF;
    EXECUTE regexp_replace(r.def, ' INDEX \S+ ON \S+ ',
                           format(' INDEX %I ON %I ', regexp_replace(r.relname, '_legacy$', ''),
                                  p_tbl));
  END LOOP;

  INSERT INTO retention_tables (parent, key_column, key_kind, local_uniques)
  VALUES (p_tbl, p_key, p_kind, locals);

  IF p_kind = 'event_id' THEN
    -- ids that are not ULIDs: kept apart, never dropped by retention
    PERFORM reten_create_partition(p_tbl, p_tbl || '_other',
                                   quote_literal(reten_event_key_other()), 'MAXVALUE');
    EXECUTE format('WITH moved AS (DELETE FROM %I WHERE %I >= %L RETURNING *)'
                   ' INSERT INTO %I SELECT * FROM moved', legacy, p_key, reten_event_key_other(),
                   p_tbl || '_other');
  END IF;
  -- the local unique indexes the legacy table has already (its old primary key and the like)
  EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (MINVALUE) TO (%s)',
                 p_tbl, legacy, p_first_upper);
END;
$$;

-- The first bound: now, or past the newest existing key when a clock ran ahead.
DO $$
DECLARE
  now_ms bigint := (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
  bound  text;
  tbl    text;
  newest text;
  t_newest timestamptz;
BEGIN
  -- attempts point at their endpoint, not at a delivery row (a delivery's unique id is per
  -- partition now); deleting an endpoint still deletes its attempts
  ALTER TABLE webhook_attempts DROP CONSTRAINT webhook_attempts_delivery_id_fkey;
  ALTER TABLE webhook_attempts ADD CONSTRAINT webhook_attempts_endpoint_id_fkey
    FOREIGN KEY (endpoint_id) REFERENCES webhook_endpoints (id) ON DELETE CASCADE NOT VALID;
  ALTER TABLE webhook_attempts VALIDATE CONSTRAINT webhook_attempts_endpoint_id_fkey;

  FOREACH tbl IN ARRAY ARRAY['events', 'eworker_marks', 'client_log_lines', 'webhook_deliveries'] LOOP
    bound := reten_event_key(now_ms);
    EXECUTE format('SELECT max(event_id) FROM %I WHERE event_id < %L', tbl, reten_event_key_other())
      INTO newest;
    IF newest IS NOT NULL AND newest >= bound THEN
      bound := newest || chr(1);
    END IF;
    PERFORM reten_partition_existing(tbl, 'event_id', 'event_id', quote_literal(bound));
  END LOOP;

  SELECT max(started_at) INTO t_newest FROM webhook_attempts;
  PERFORM reten_partition_existing('webhook_attempts', 'started_at', 'time',
    quote_literal(greatest(clock_timestamp(), t_newest + interval '1 millisecond')::text));
END;
$$;

-- A tenant's events retention in seconds; NULL: the deployment's default
-- (RETENTION_EVENTS_DEFAULT_SECONDS), bounded by RETENTION_EVENTS_MIN/MAX_SECONDS in the API.
ALTER TABLE tenants ADD COLUMN events_retention_seconds integer
  CHECK (events_retention_seconds > 0);

-- Idempotency-Key records go in batches by age (RETENTION_IDEMPOTENCY_SECONDS) as well as by
-- expiry: a small table (keys live a day by default), so a plain index is cheap.
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- Down Migration
DROP INDEX idempotency_keys_created_idx;
-- Partitioned tables stay partitioned: going back would mean copying every row.
ALTER TABLE tenants DROP COLUMN events_retention_seconds;
