-- FHIR id <-> legacy id of resources created on the FHIR server (a `fhir`
-- route) and mirrored into legacy, whose keys legacy assigns itself.
-- legacy_id is NULL while the legacy insert is in progress: a retry that
-- finds it NULL cannot tell whether the insert happened, and stops instead
-- of inserting twice.
CREATE TABLE id_map (
  resource_type varchar(64)  NOT NULL,
  fhir_id       varchar(64)  NOT NULL,
  legacy_id     varchar(64),
  created_at    timestamptz  NOT NULL,
  PRIMARY KEY (resource_type, fhir_id)
);
CREATE UNIQUE INDEX ux_id_map_legacy ON id_map (resource_type, legacy_id);
