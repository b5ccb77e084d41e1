-- unmirrorable rows become failed ones: the fhir -> shadow guard still
-- counts them, and they still name what legacy lacks.
UPDATE outbox SET state = 'failed' WHERE state = 'unmirrorable';
ALTER TABLE outbox DROP CONSTRAINT outbox_state_check;
ALTER TABLE outbox ALTER COLUMN state TYPE varchar(8);
ALTER TABLE outbox ADD CONSTRAINT outbox_state_check CHECK (state IN ('pending', 'done', 'failed'));
