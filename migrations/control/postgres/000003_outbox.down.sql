DROP TABLE shadow_mismatch;
DROP TABLE outbox;
