-- Provider directory of the demo legacy schema: the credentialing office's
-- provider list, the facilities (legal entities) and their departments.
-- Visits get their attending provider and facility, lab results the
-- provider who performed them. Legacy-shaped like 000001: terse names,
-- Y/N flags, local codes; no foreign keys from the old tables (the legacy
-- application never declared them), only among the new ones.
-- MySQL/MariaDB: the _ci collation of 000001 serves the string searches.
CREATE TABLE facility (
  facility_id   int          NOT NULL AUTO_INCREMENT PRIMARY KEY,
  facility_nm   varchar(100) NOT NULL,
  npi           char(10),
  alt_id_sys    varchar(100),
  alt_id        varchar(40),
  org_type_cd   varchar(10),
  active_yn     char(1)      NOT NULL DEFAULT 'Y',
  phone         varchar(20),
  email         varchar(100),
  addr_line1    varchar(100),
  city          varchar(60),
  state_cd      char(2),
  zip_cd        varchar(10),
  country_cd    varchar(3),
  upd_ts        datetime(3)  NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX ix_facility_nm     ON facility (facility_nm);
CREATE INDEX ix_facility_npi    ON facility (npi);
CREATE INDEX ix_facility_city   ON facility (city);
CREATE INDEX ix_facility_upd_ts ON facility (upd_ts);

CREATE TABLE dept (
  dept_cd       varchar(10)  NOT NULL PRIMARY KEY,
  facility_id   int,
  dept_nm       varchar(100) NOT NULL,
  status_cd     char(1)      NOT NULL DEFAULT 'A',
  loc_type_cd   varchar(10),
  npi           char(10),
  phone         varchar(20),
  addr_line1    varchar(100),
  city          varchar(60),
  state_cd      char(2),
  zip_cd        varchar(10),
  country_cd    varchar(3),
  upd_ts        datetime(3)  NOT NULL,
  FOREIGN KEY (facility_id) REFERENCES facility (facility_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX ix_dept_nm       ON dept (dept_nm);
CREATE INDEX ix_dept_facility ON dept (facility_id);
CREATE INDEX ix_dept_city     ON dept (city);
CREATE INDEX ix_dept_upd_ts   ON dept (upd_ts);

CREATE TABLE provider (
  provider_id   varchar(20)  NOT NULL PRIMARY KEY,
  npi           char(10),
  alt_id_sys    varchar(100),
  alt_id        varchar(40),
  last_nm       varchar(60)  NOT NULL,
  first_nm      varchar(60),
  name_prefix   varchar(10),
  name_suffix   varchar(10),
  specialty_cd  varchar(10),
  phone         varchar(20),
  email         varchar(100),
  direct_yn     char(1),
  addr_line1    varchar(100),
  city          varchar(60),
  state_cd      char(2),
  zip_cd        varchar(10),
  active_yn     char(1)      NOT NULL DEFAULT 'Y',
  upd_ts        datetime(3)  NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX ix_provider_last_nm  ON provider (last_nm);
CREATE INDEX ix_provider_first_nm ON provider (first_nm);
CREATE INDEX ix_provider_npi      ON provider (npi);
CREATE INDEX ix_provider_upd_ts   ON provider (upd_ts);

ALTER TABLE visit ADD COLUMN facility_id int;
CREATE INDEX ix_visit_attending ON visit (attending_id);
CREATE INDEX ix_visit_facility  ON visit (facility_id);
CREATE INDEX ix_visit_dept      ON visit (dept_cd);

ALTER TABLE lab_result ADD COLUMN performer_id varchar(20);
CREATE INDEX ix_lab_performer ON lab_result (performer_id);
