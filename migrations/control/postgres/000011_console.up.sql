-- The migration console's journal of its own actions (sync and parity
-- runs started from the page, outbox retries and skips, audit verifies):
-- who, when, on which type, the outcome and a one-line detail (no PHI).
-- Route moves are journaled in route_event as from the CLI.
CREATE TABLE console_action (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at            timestamptz  NOT NULL,
  actor         varchar(200) NOT NULL,
  action        varchar(32)  NOT NULL,
  resource_type varchar(64)  NOT NULL DEFAULT '',
  ok            boolean      NOT NULL,
  detail        text         NOT NULL
);
CREATE INDEX ix_console_action_type ON console_action (resource_type, id);
CREATE INDEX ix_console_action_action ON console_action (action, id);
