-- The per-type routing table, its append-only journal, and the parity and
-- sync records the flip guard reads.
CREATE TABLE route (
  resource_type VARCHAR(64) PRIMARY KEY,
  state         VARCHAR(16) NOT NULL CHECK (state IN ('legacy', 'shadow', 'fhir', 'fhir-only')),
  version       INTEGER     NOT NULL,
  updated_at    VARCHAR(40) NOT NULL,
  updated_by    VARCHAR(200) NOT NULL
);
CREATE TABLE route_event (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  resource_type VARCHAR(64)  NOT NULL,
  from_state    VARCHAR(16)  NOT NULL,
  to_state      VARCHAR(16)  NOT NULL,
  version       INTEGER      NOT NULL,
  actor         VARCHAR(200) NOT NULL,
  reason        TEXT         NOT NULL,
  forced        INTEGER      NOT NULL DEFAULT 0,
  parity_report INTEGER,
  at            VARCHAR(40)  NOT NULL
);
CREATE INDEX ix_route_event_type ON route_event (resource_type, id);
CREATE TABLE parity_report (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  resource_type VARCHAR(64) NOT NULL,
  created_at    VARCHAR(40) NOT NULL,
  passed        INTEGER     NOT NULL,
  matching      INTEGER     NOT NULL,
  total         INTEGER     NOT NULL,
  report        TEXT        NOT NULL
);
CREATE INDEX ix_parity_type ON parity_report (resource_type, id);
CREATE TABLE sync_run (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  resource_type VARCHAR(64) NOT NULL,
  started_at    VARCHAR(40) NOT NULL,
  finished_at   VARCHAR(40)
);
CREATE INDEX ix_sync_type ON sync_run (resource_type, id);
CREATE TRIGGER route_event_no_update BEFORE UPDATE ON route_event
BEGIN SELECT RAISE(ABORT, 'route_event is append-only'); END;
CREATE TRIGGER route_event_no_delete BEFORE DELETE ON route_event
BEGIN SELECT RAISE(ABORT, 'route_event is append-only'); END;
