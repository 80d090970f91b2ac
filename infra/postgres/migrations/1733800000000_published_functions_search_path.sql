-- Up Migration

-- reten_published_through() and reten_published_at() read published_rounds by name, and a SQL
-- function resolves names when it runs, through the caller's search_path. The services set
-- theirs to their schema; an operator's psql, a bench or a report reading "<schema>".outbox
-- did not, and failed (relation "published_rounds" does not exist), or, with another Reten
-- schema first in its path, would have read that schema's marks. Each function now runs with
-- the search_path of this migration: its own schema.
ALTER FUNCTION reten_published_through() SET search_path FROM CURRENT;
ALTER FUNCTION reten_published_at(bigint, timestamptz) SET search_path FROM CURRENT;

-- Down Migration
ALTER FUNCTION reten_published_through() RESET search_path;
ALTER FUNCTION reten_published_at(bigint, timestamptz) RESET search_path;
