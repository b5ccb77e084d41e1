-- Control store: facade-owned state. Later migrations add routes, journal,
-- audit, parity, outbox and checkpoints.
CREATE TABLE facade_secret (
  name       VARCHAR(64) PRIMARY KEY,
  value      BLOB        NOT NULL,
  created_at VARCHAR(40) NOT NULL
);
