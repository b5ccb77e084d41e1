DROP INDEX ix_lab_performer ON lab_result;
ALTER TABLE lab_result DROP COLUMN performer_id;
DROP INDEX ix_visit_dept ON visit;
DROP INDEX ix_visit_facility ON visit;
DROP INDEX ix_visit_attending ON visit;
ALTER TABLE visit DROP COLUMN facility_id;
DROP TABLE provider;
DROP TABLE dept;
DROP TABLE facility;
