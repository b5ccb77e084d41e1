-- Demo legacy clinical schema (deliberately not FHIR-shaped): terse column
-- names, local code sets, zone-less date-times, results stored as text.
-- The default case-insensitive collation serves the string searches.
CREATE TABLE pat_master (
  pat_id        int IDENTITY(1,1) PRIMARY KEY,
  mrn           varchar(20)   NOT NULL UNIQUE,
  last_nm       nvarchar(60)  NOT NULL,
  first_nm      nvarchar(60),
  middle_nm     nvarchar(60),
  birth_dt      date,
  sex_cd        char(1),
  addr_line1    nvarchar(100),
  city          nvarchar(60),
  state_cd      char(2),
  zip_cd        varchar(10),
  phone_home    varchar(20),
  deceased_yn   char(1)       NOT NULL DEFAULT 'N',
  deceased_dttm datetime2(0),
  ssn_last4     char(4),
  upd_user      varchar(20),
  upd_ts        datetime2(3)  NOT NULL
);
CREATE INDEX ix_pat_last_nm  ON pat_master (last_nm);
CREATE INDEX ix_pat_first_nm ON pat_master (first_nm);
CREATE INDEX ix_pat_birth_dt ON pat_master (birth_dt);
CREATE INDEX ix_pat_upd_ts   ON pat_master (upd_ts);

CREATE TABLE visit (
  visit_id        int IDENTITY(1,1) PRIMARY KEY,
  pat_id          int          NOT NULL REFERENCES pat_master (pat_id),
  visit_type_cd   char(2)      NOT NULL,
  visit_status_cd char(1)      NOT NULL,
  admit_dttm      datetime2(0),
  disch_dttm      datetime2(0),
  dept_cd         varchar(10),
  attending_id    varchar(20),
  upd_ts          datetime2(3) NOT NULL
);
CREATE INDEX ix_visit_pat    ON visit (pat_id, admit_dttm);
CREATE INDEX ix_visit_admit  ON visit (admit_dttm);
CREATE INDEX ix_visit_upd_ts ON visit (upd_ts);

CREATE TABLE lab_test_code (
  local_cd      varchar(10)   PRIMARY KEY,
  loinc_cd      varchar(10)   NOT NULL UNIQUE,
  loinc_display nvarchar(200) NOT NULL,
  default_unit  varchar(20)
);

CREATE TABLE lab_result (
  result_id      int IDENTITY(1,1) PRIMARY KEY,
  pat_id         int          NOT NULL REFERENCES pat_master (pat_id),
  visit_id       int          REFERENCES visit (visit_id),
  local_test_cd  varchar(10)  NOT NULL REFERENCES lab_test_code (local_cd),
  result_val     varchar(40),
  result_unit    varchar(20),
  ref_range      varchar(40),
  abn_flag       char(1),
  result_status  char(1)      NOT NULL,
  collected_dttm datetime2(0) NOT NULL,
  lab_accession  varchar(20),
  upd_ts         datetime2(3) NOT NULL
);
CREATE INDEX ix_lab_pat_code_dt ON lab_result (pat_id, local_test_cd, collected_dttm);
CREATE INDEX ix_lab_visit       ON lab_result (visit_id);
CREATE INDEX ix_lab_collected   ON lab_result (collected_dttm);
CREATE INDEX ix_lab_upd_ts      ON lab_result (upd_ts);
