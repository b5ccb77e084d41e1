-- unmirrorable rows become failed ones: the fhir -> shadow guard still
-- counts them, and they still name what legacy lacks.
CREATE TABLE outbox_old (
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
INSERT INTO outbox_old (id, target, resource_type, resource_id, created_at, attempts, last_error, state, done_at)
  SELECT id, target, resource_type, resource_id, created_at, attempts, last_error,
         CASE WHEN state = 'unmirrorable' THEN 'failed' ELSE state END, done_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_old RENAME TO outbox;
CREATE INDEX ix_outbox_pending ON outbox (state, id);
