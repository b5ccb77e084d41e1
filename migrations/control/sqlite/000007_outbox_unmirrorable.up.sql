-- 'unmirrorable': a write accepted on a `fhir` route with
-- Prefer: handling=lenient although legacy cannot hold it. Never drained;
-- counted by the fhir -> shadow guard and shown per type by route list and
-- /admin/routes. SQLite cannot change a CHECK constraint: the table is
-- rebuilt, ids kept (so the drain order holds; rows are never deleted, so
-- the AUTOINCREMENT sequence, max(id), carries over too).
CREATE TABLE outbox_new (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  target        VARCHAR(16)  NOT NULL CHECK (target IN ('fhir', 'legacy')),
  resource_type VARCHAR(64)  NOT NULL,
  resource_id   VARCHAR(64)  NOT NULL,
  created_at    VARCHAR(40)  NOT NULL,
  attempts      INTEGER      NOT NULL DEFAULT 0,
  last_error    TEXT,
  state         VARCHAR(16)  NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed', 'unmirrorable')),
  done_at       VARCHAR(40)
);
INSERT INTO outbox_new (id, target, resource_type, resource_id, created_at, attempts, last_error, state, done_at)
  SELECT id, target, resource_type, resource_id, created_at, attempts, last_error, state, done_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX ix_outbox_pending ON outbox (state, id);
