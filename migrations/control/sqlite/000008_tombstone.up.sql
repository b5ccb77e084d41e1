-- Deletes made through the facade: one row per deleted resource, so that a
-- read of it answers 410 Gone instead of 404 (legacy tables keep nothing of
-- a deleted row). Written BEFORE the resource is deleted, so a crash
-- between the two leaves a tombstone beside a live resource — harmless,
-- because a live resource always wins over its tombstone — and never a
-- deleted resource without one. A later create or update-as-create of the
-- id removes it.
CREATE TABLE tombstone (
  resource_type varchar(64)  NOT NULL,
  resource_id   varchar(64)  NOT NULL,
  version_id    varchar(64)  NOT NULL,
  deleted_at    text NOT NULL,
  PRIMARY KEY (resource_type, resource_id)
);
