-- sync checkpoints and run counts; parity's id/hash staging (so a
-- comparison of millions of resources keeps its memory flat).
ALTER TABLE sync_run ADD COLUMN mode VARCHAR(16) NOT NULL DEFAULT 'full';
ALTER TABLE sync_run ADD COLUMN written INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_run ADD COLUMN failed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_run ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_run ADD COLUMN watermark VARCHAR(40);
CREATE TABLE sync_checkpoint (
  resource_type VARCHAR(64) PRIMARY KEY,
  run_id        INTEGER     NOT NULL,
  position      TEXT        NOT NULL,
  watermark     VARCHAR(40),
  written       INTEGER     NOT NULL DEFAULT 0,
  failed        INTEGER     NOT NULL DEFAULT 0,
  updated_at    VARCHAR(40) NOT NULL
);
CREATE TABLE parity_item (
  run_key  VARCHAR(40) NOT NULL,
  side     CHAR(1)     NOT NULL,
  id       VARCHAR(64) NOT NULL,
  hash     CHAR(64)    NOT NULL,
  PRIMARY KEY (run_key, side, id)
);
