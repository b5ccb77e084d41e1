-- Durable outbox of mirrored writes: "Type/id changed on one side; copy its
-- current state to the other". Drained in id order.
CREATE TABLE outbox (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  target        varchar(16)  NOT NULL CHECK (target IN ('fhir', 'legacy')),
  resource_type varchar(64)  NOT NULL,
  resource_id   varchar(64)  NOT NULL,
  created_at    timestamptz  NOT NULL,
  attempts      integer      NOT NULL DEFAULT 0,
  last_error    text,
  state         varchar(8)   NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
  done_at       timestamptz
);
CREATE INDEX ix_outbox_pending ON outbox (state, id);
CREATE TABLE shadow_mismatch (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  resource_type varchar(64) NOT NULL,
  resource_id   varchar(64) NOT NULL,
  at            timestamptz NOT NULL,
  kind          varchar(16) NOT NULL,
  paths         text        NOT NULL
);
CREATE INDEX ix_shadow_mismatch_type ON shadow_mismatch (resource_type, id);
