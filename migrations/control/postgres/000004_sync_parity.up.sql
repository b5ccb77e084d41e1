-- sync checkpoints and run counts; parity's id/hash staging (so a
-- comparison of millions of resources keeps its memory flat).
ALTER TABLE sync_run ADD COLUMN mode varchar(16) NOT NULL DEFAULT 'full';
ALTER TABLE sync_run ADD COLUMN written bigint NOT NULL DEFAULT 0;
ALTER TABLE sync_run ADD COLUMN failed bigint NOT NULL DEFAULT 0;
ALTER TABLE sync_run ADD COLUMN deleted bigint NOT NULL DEFAULT 0;
ALTER TABLE sync_run ADD COLUMN watermark varchar(40);
CREATE TABLE sync_checkpoint (
  resource_type varchar(64) PRIMARY KEY,
  run_id        bigint      NOT NULL,
  position      text        NOT NULL,
  watermark     varchar(40),
  written       bigint      NOT NULL DEFAULT 0,
  failed        bigint      NOT NULL DEFAULT 0,
  updated_at    timestamptz NOT NULL
);
CREATE UNLOGGED TABLE parity_item (
  run_key  varchar(40) NOT NULL,
  side     char(1)     NOT NULL,
  id       varchar(64) NOT NULL,
  hash     char(64)    NOT NULL,
  PRIMARY KEY (run_key, side, id)
);
