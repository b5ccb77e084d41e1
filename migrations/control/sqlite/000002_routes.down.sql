DROP TRIGGER IF EXISTS route_event_no_update;
DROP TRIGGER IF EXISTS route_event_no_delete;
DROP TABLE sync_run;
DROP TABLE parity_report;
DROP TABLE route_event;
DROP TABLE route;
