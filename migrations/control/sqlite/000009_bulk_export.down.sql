DROP TABLE bulk_part;
DROP TABLE bulk_job;
