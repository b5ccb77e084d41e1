-- Demo legacy clinical schema (deliberately not FHIR-shaped): terse column
-- names, local code sets, zone-less date-times, results stored as text.
CREATE TABLE pat_master (
  pat_id        INTEGER PRIMARY KEY AUTOINCREMENT,
  mrn           VARCHAR(20)  NOT NULL UNIQUE,
  last_nm       VARCHAR(60)  NOT NULL,
  first_nm      VARCHAR(60),
  middle_nm     VARCHAR(60),
  birth_dt      DATE,
  sex_cd        CHAR(1),
  addr_line1    VARCHAR(100),
  city          VARCHAR(60),
  state_cd      CHAR(2),
  zip_cd        VARCHAR(10),
  phone_home    VARCHAR(20),
  deceased_yn   CHAR(1)      NOT NULL DEFAULT 'N',
  deceased_dttm DATETIME,
  ssn_last4     CHAR(4),
  upd_user      VARCHAR(20),
  upd_ts        DATETIME     NOT NULL
);
CREATE INDEX ix_pat_last_nm  ON pat_master (last_nm COLLATE NOCASE);
CREATE INDEX ix_pat_first_nm ON pat_master (first_nm COLLATE NOCASE);
CREATE INDEX ix_pat_birth_dt ON pat_master (birth_dt);
CREATE INDEX ix_pat_upd_ts   ON pat_master (upd_ts);

CREATE TABLE visit (
  visit_id        INTEGER PRIMARY KEY AUTOINCREMENT,
  pat_id          INTEGER     NOT NULL REFERENCES pat_master (pat_id),
  visit_type_cd   CHAR(2)     NOT NULL,
  visit_status_cd CHAR(1)     NOT NULL,
  admit_dttm      DATETIME,
  disch_dttm      DATETIME,
  dept_cd         VARCHAR(10),
  attending_id    VARCHAR(20),
  upd_ts          DATETIME    NOT NULL
);
CREATE INDEX ix_visit_pat   ON visit (pat_id, admit_dttm);
CREATE INDEX ix_visit_admit ON visit (admit_dttm);
CREATE INDEX ix_visit_upd_ts ON visit (upd_ts);

CREATE TABLE lab_test_code (
  local_cd      VARCHAR(10)  PRIMARY KEY,
  loinc_cd      VARCHAR(10)  NOT NULL UNIQUE,
  loinc_display VARCHAR(200) NOT NULL,
  default_unit  VARCHAR(20)
);

CREATE TABLE lab_result (
  result_id      INTEGER PRIMARY KEY AUTOINCREMENT,
  pat_id         INTEGER     NOT NULL REFERENCES pat_master (pat_id),
  visit_id       INTEGER     REFERENCES visit (visit_id),
  local_test_cd  VARCHAR(10) NOT NULL REFERENCES lab_test_code (local_cd),
  result_val     VARCHAR(40),
  result_unit    VARCHAR(20),
  ref_range      VARCHAR(40),
  abn_flag       CHAR(1),
  result_status  CHAR(1)     NOT NULL,
  collected_dttm DATETIME    NOT NULL,
  lab_accession  VARCHAR(20),
  upd_ts         DATETIME    NOT NULL
);
CREATE INDEX ix_lab_pat_code_dt ON lab_result (pat_id, local_test_cd, collected_dttm);
CREATE INDEX ix_lab_visit       ON lab_result (visit_id);
CREATE INDEX ix_lab_collected   ON lab_result (collected_dttm);
CREATE INDEX ix_lab_upd_ts      ON lab_result (upd_ts);
