-- The per-type routing table, its append-only journal, and the parity and
-- sync records the flip guard reads.
CREATE TABLE route (
  resource_type varchar(64) PRIMARY KEY,
  state         varchar(16) NOT NULL CHECK (state IN ('legacy', 'shadow', 'fhir', 'fhir-only')),
  version       integer     NOT NULL,
  updated_at    timestamptz NOT NULL,
  updated_by    varchar(200) NOT NULL
);
CREATE TABLE route_event (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  resource_type varchar(64)  NOT NULL,
  from_state    varchar(16)  NOT NULL,
  to_state      varchar(16)  NOT NULL,
  version       integer      NOT NULL,
  actor         varchar(200) NOT NULL,
  reason        text         NOT NULL,
  forced        boolean      NOT NULL DEFAULT false,
  parity_report bigint,
  at            timestamptz  NOT NULL
);
CREATE INDEX ix_route_event_type ON route_event (resource_type, id);
-- the journal is append-only: no updates or deletes through any role that
-- uses this schema's normal paths
CREATE FUNCTION route_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'route_event is append-only';
END $$;
CREATE TRIGGER route_event_no_change BEFORE UPDATE OR DELETE ON route_event
  FOR EACH ROW EXECUTE FUNCTION route_event_append_only();
CREATE TABLE parity_report (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  resource_type varchar(64) NOT NULL,
  created_at    timestamptz NOT NULL,
  passed        boolean     NOT NULL,
  matching      bigint      NOT NULL,
  total         bigint      NOT NULL,
  report        text        NOT NULL
);
CREATE INDEX ix_parity_type ON parity_report (resource_type, id);
CREATE TABLE sync_run (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  resource_type varchar(64) NOT NULL,
  started_at    timestamptz NOT NULL,
  finished_at   timestamptz
);
CREATE INDEX ix_sync_type ON sync_run (resource_type, id);
