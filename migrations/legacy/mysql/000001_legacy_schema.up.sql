-- Demo legacy clinical schema (deliberately not FHIR-shaped): terse column
-- names, local code sets, zone-less date-times, results stored as text.
-- MySQL/MariaDB: InnoDB (foreign keys), utf8mb4 with a case- and
-- accent-insensitive collation, so the plain LIKE of the string searches is
-- case-insensitive and its prefix form can use the indexes below. Pinned
-- here rather than taken from the server's default.
CREATE TABLE pat_master (
  pat_id        int          NOT NULL AUTO_INCREMENT PRIMARY KEY,
  mrn           varchar(20)  NOT NULL UNIQUE,
  last_nm       varchar(60)  NOT NULL,
  first_nm      varchar(60),
  middle_nm     varchar(60),
  birth_dt      date,
  sex_cd        char(1),
  addr_line1    varchar(100),
  city          varchar(60),
  state_cd      char(2),
  zip_cd        varchar(10),
  phone_home    varchar(20),
  deceased_yn   char(1)      NOT NULL DEFAULT 'N',
  deceased_dttm datetime(0),
  ssn_last4     char(4),
  upd_user      varchar(20),
  upd_ts        datetime(3)  NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX ix_pat_last_nm  ON pat_master (last_nm);
CREATE INDEX ix_pat_first_nm ON pat_master (first_nm);
CREATE INDEX ix_pat_birth_dt ON pat_master (birth_dt);
CREATE INDEX ix_pat_upd_ts   ON pat_master (upd_ts);

CREATE TABLE visit (
  visit_id        int          NOT NULL AUTO_INCREMENT PRIMARY KEY,
  pat_id          int          NOT NULL,
  visit_type_cd   char(2)      NOT NULL,
  visit_status_cd char(1)      NOT NULL,
  admit_dttm      datetime(0),
  disch_dttm      datetime(0),
  dept_cd         varchar(10),
  attending_id    varchar(20),
  upd_ts          datetime(3)  NOT NULL,
  FOREIGN KEY (pat_id) REFERENCES pat_master (pat_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX ix_visit_pat    ON visit (pat_id, admit_dttm);
CREATE INDEX ix_visit_admit  ON visit (admit_dttm);
CREATE INDEX ix_visit_upd_ts ON visit (upd_ts);

CREATE TABLE lab_test_code (
  local_cd      varchar(10)  NOT NULL PRIMARY KEY,
  loinc_cd      varchar(10)  NOT NULL UNIQUE,
  loinc_display varchar(200) NOT NULL,
  default_unit  varchar(20)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE lab_result (
  result_id      int          NOT NULL AUTO_INCREMENT PRIMARY KEY,
  pat_id         int          NOT NULL,
  visit_id       int,
  local_test_cd  varchar(10)  NOT NULL,
  result_val     varchar(40),
  result_unit    varchar(20),
  ref_range      varchar(40),
  abn_flag       char(1),
  result_status  char(1)      NOT NULL,
  collected_dttm datetime(0)  NOT NULL,
  lab_accession  varchar(20),
  upd_ts         datetime(3)  NOT NULL,
  FOREIGN KEY (pat_id) REFERENCES pat_master (pat_id),
  FOREIGN KEY (visit_id) REFERENCES visit (visit_id),
  FOREIGN KEY (local_test_cd) REFERENCES lab_test_code (local_cd)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX ix_lab_pat_code_dt ON lab_result (pat_id, local_test_cd, collected_dttm);
CREATE INDEX ix_lab_visit       ON lab_result (visit_id);
CREATE INDEX ix_lab_collected   ON lab_result (collected_dttm);
CREATE INDEX ix_lab_upd_ts      ON lab_result (upd_ts);
