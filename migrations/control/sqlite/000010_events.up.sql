-- Change events (issue 13): one row per create, update or delete of a
-- resource, whatever its route, queued in the write's fence transaction
-- (facade writes) or by the legacy poller (direct SQL changes). The
-- identity (type, id, version, kind) is unique, so the poller seeing a
-- facade write again inserts nothing. pos is the delivery order, given by
-- the publisher once the row is committed (id order is not commit order
-- on PostgreSQL: a row with a smaller id may commit later).
CREATE TABLE change_event (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  pos           bigint UNIQUE,
  event_id      varchar(36)  NOT NULL,
  resource_type varchar(64)  NOT NULL,
  resource_id   varchar(64)  NOT NULL,
  version_id    varchar(64)  NOT NULL,
  kind          varchar(8)   NOT NULL CHECK (kind IN ('created', 'updated', 'deleted')),
  source        varchar(8)   NOT NULL CHECK (source IN ('facade', 'poll')),
  occurred_at   VARCHAR(40)  NOT NULL,
  queued_at     VARCHAR(40)  NOT NULL,
  UNIQUE (resource_type, resource_id, version_id, kind)
);
CREATE INDEX ix_change_event_unsequenced ON change_event (id) WHERE pos IS NULL;
CREATE INDEX ix_change_event_resource ON change_event (resource_type, resource_id, id);
-- Each sink's cursor: the last pos it delivered (or dead-lettered), the
-- attempts made on the event after it, and the lease of the one facade
-- that delivers to the sink (several facades on one store must not send
-- the same events twice, or out of order).
CREATE TABLE event_cursor (
  sink        varchar(512) PRIMARY KEY,
  pos         bigint       NOT NULL DEFAULT 0,
  attempts    integer      NOT NULL DEFAULT 0,
  last_error  text,
  owner       varchar(36),
  lease_until VARCHAR(40)
);
-- Events a sink refused for good (after FHIRFACADE_EVENT_MAX_ATTEMPTS).
CREATE TABLE event_dead_letter (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,
  sink      varchar(512) NOT NULL,
  event_pos bigint       NOT NULL,
  attempts  integer      NOT NULL,
  error     text         NOT NULL,
  at        VARCHAR(40)  NOT NULL
);
CREATE INDEX ix_event_dead_letter_sink ON event_dead_letter (sink, id);
-- The legacy poller: per type, the last-updated watermark it has seen,
-- and the keys (with their last version) it knows, for deletes.
CREATE TABLE event_poll (
  resource_type varchar(64) PRIMARY KEY,
  watermark     VARCHAR(40) NOT NULL
);
CREATE TABLE event_poll_key (
  resource_type varchar(64) NOT NULL,
  resource_id   varchar(64) NOT NULL,
  version_id    varchar(64) NOT NULL,
  PRIMARY KEY (resource_type, resource_id)
);
