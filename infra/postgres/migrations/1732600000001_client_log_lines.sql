-- Up Migration

-- One row per log line of a `log:ClientLog` event (the client-log eworker). The current
-- revision of an event replaces the lines of its earlier revisions.
CREATE TABLE client_log_lines (
  id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id       text        NOT NULL,
  event_id        text        NOT NULL,
  revision        integer     NOT NULL,
  line_no         integer     NOT NULL,
  logged_at       timestamptz NOT NULL,
  level           text        NOT NULL,
  message         text        NOT NULL,
  app_name        text        NOT NULL,
  app_version     text        NOT NULL,
  browser         text,
  browser_version text,
  os              text,
  screen_width    integer,
  screen_height   integer,
  stored_at       timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT client_log_lines_line_key UNIQUE (event_id, revision, line_no)
);
-- Queries: by app, by level, by time, each within a tenant and newest first.
CREATE INDEX client_log_lines_app_idx ON client_log_lines (tenant_id, app_name, logged_at);
CREATE INDEX client_log_lines_level_idx ON client_log_lines (tenant_id, level, logged_at);
CREATE INDEX client_log_lines_time_idx ON client_log_lines (tenant_id, logged_at);

-- Down Migration
DROP TABLE client_log_lines;
