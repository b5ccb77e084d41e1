-- Durable outbox of mirrored writes: "Type/id changed on one side; copy its
-- current state to the other". Drained in id order.
CREATE TABLE outbox (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  target        VARCHAR(16)  NOT NULL CHECK (target IN ('fhir', 'legacy')),
  resource_type VARCHAR(64)  NOT NULL,
  resource_id   VARCHAR(64)  NOT NULL,
  created_at    VARCHAR(40)  NOT NULL,
  attempts      INTEGER      NOT NULL DEFAULT 0,
  last_error    TEXT,
  state         VARCHAR(8)   NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
  done_at       VARCHAR(40)
);
CREATE INDEX ix_outbox_pending ON outbox (state, id);
CREATE TABLE shadow_mismatch (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  resource_type VARCHAR(64) NOT NULL,
  resource_id   VARCHAR(64) NOT NULL,
  at            VARCHAR(40) NOT NULL,
  kind          VARCHAR(16) NOT NULL,
  paths         TEXT        NOT NULL
);
CREATE INDEX ix_shadow_mismatch_type ON shadow_mismatch (resource_type, id);
