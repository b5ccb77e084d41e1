DROP TABLE event_poll_key;
DROP TABLE event_poll;
DROP TABLE event_dead_letter;
DROP TABLE event_cursor;
DROP TABLE change_event;
