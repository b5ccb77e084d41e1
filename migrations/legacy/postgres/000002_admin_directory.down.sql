DROP INDEX ix_lab_performer;
ALTER TABLE lab_result DROP COLUMN performer_id;
DROP INDEX ix_visit_dept;
DROP INDEX ix_visit_facility;
DROP INDEX ix_visit_attending;
ALTER TABLE visit DROP COLUMN facility_id;
DROP TABLE provider;
DROP TABLE dept;
DROP TABLE facility;
