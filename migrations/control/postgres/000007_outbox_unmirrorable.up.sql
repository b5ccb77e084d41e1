-- 'unmirrorable': a write accepted on a `fhir` route with
-- Prefer: handling=lenient although legacy cannot hold it. Never drained;
-- counted by the fhir -> shadow guard and shown per type by route list and
-- /admin/routes.
ALTER TABLE outbox ALTER COLUMN state TYPE varchar(16);
ALTER TABLE outbox DROP CONSTRAINT outbox_state_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_state_check CHECK (state IN ('pending', 'done', 'failed', 'unmirrorable'));
