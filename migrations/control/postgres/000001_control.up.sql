-- Control store: facade-owned state. Later migrations add routes, journal,
-- audit, parity, outbox and checkpoints.
CREATE TABLE facade_secret (
  name       varchar(64) PRIMARY KEY,
  value      bytea       NOT NULL,
  created_at timestamptz NOT NULL
);
