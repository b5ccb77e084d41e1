DROP TABLE parity_item;
DROP TABLE sync_checkpoint;
ALTER TABLE sync_run DROP COLUMN watermark;
ALTER TABLE sync_run DROP COLUMN deleted;
ALTER TABLE sync_run DROP COLUMN failed;
ALTER TABLE sync_run DROP COLUMN written;
ALTER TABLE sync_run DROP COLUMN mode;
