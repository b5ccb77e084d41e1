DROP TABLE audit_head;
DROP TABLE audit_event;
DROP FUNCTION audit_event_append_only();
