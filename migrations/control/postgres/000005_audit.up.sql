-- The audit trail: one row per FHIR interaction, route flip, sync or parity
-- run. Each row holds the SHA-256 of the row before it (hash chain);
-- audit_head holds the newest link so a deleted tail is noticed too.
CREATE TABLE audit_event (
  seq       bigint      PRIMARY KEY,
  recorded  timestamptz NOT NULL,
  body      text        NOT NULL,
  prev_hash char(64)    NOT NULL,
  hash      char(64)    NOT NULL
);
-- BRIN: the column only grows, and a BRIN index costs next to nothing to
-- maintain at thousands of appends a second, unlike a B-tree
CREATE INDEX ix_audit_recorded ON audit_event USING brin (recorded);
CREATE TABLE audit_head (
  id   integer  PRIMARY KEY CHECK (id = 1),
  seq  bigint   NOT NULL,
  hash char(64) NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, repeat('0', 64));
-- append-only through the normal paths; the hash chain catches whoever
-- gets past this (a superuser, a restore, a disk edit)
CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_event is append-only';
END $$;
CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event
  FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
