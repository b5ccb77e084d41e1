DROP FUNCTION IF EXISTS route_event_append_only() CASCADE;
DROP TABLE sync_run;
DROP TABLE parity_report;
DROP TABLE route_event;
DROP TABLE route;
