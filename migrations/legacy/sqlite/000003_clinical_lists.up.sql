-- Clinical lists of the demo legacy schema (problem list, allergies,
-- medication orders, immunizations, procedures), as terse and local as
-- 000001. Clinician columns hold provider ids ("DR0001") as plain text with
-- no foreign key: many legacy databases keep them so, and the provider table
-- may live elsewhere.
CREATE TABLE problem_list (
  prob_id      INTEGER PRIMARY KEY AUTOINCREMENT,
  pat_id       integer     NOT NULL REFERENCES pat_master (pat_id),
  visit_id     integer     REFERENCES visit (visit_id),
  prob_type_cd char(1)     NOT NULL,
  prob_status  char(1),
  verify_cd    char(1),
  snomed_cd    varchar(20),
  icd10_cd     varchar(10),
  prob_desc    varchar(200),
  onset_dt     date,
  resolved_dt  date,
  noted_dttm   DATETIME,
  noted_by     varchar(20),
  upd_ts       DATETIME NOT NULL
);
CREATE INDEX ix_prob_pat_onset ON problem_list (pat_id, onset_dt);
CREATE INDEX ix_prob_pat_type  ON problem_list (pat_id, prob_type_cd);
CREATE INDEX ix_prob_snomed    ON problem_list (snomed_cd);
CREATE INDEX ix_prob_icd10     ON problem_list (icd10_cd);
CREATE INDEX ix_prob_onset     ON problem_list (onset_dt);
CREATE INDEX ix_prob_visit     ON problem_list (visit_id);
CREATE INDEX ix_prob_noted     ON problem_list (noted_dttm);
CREATE INDEX ix_prob_upd_ts    ON problem_list (upd_ts);

CREATE TABLE pat_allergy (
  allergy_id     INTEGER PRIMARY KEY AUTOINCREMENT,
  pat_id         integer     NOT NULL REFERENCES pat_master (pat_id),
  allergy_status char(1),
  verify_cd      char(1),
  allergy_cat    char(1),
  crit_cd        char(1),
  snomed_cd      varchar(20),
  allergen_desc  varchar(200),
  rxn_snomed_cd  varchar(20),
  rxn_desc       varchar(100),
  rxn_sev_cd     char(1),
  entered_dttm   DATETIME,
  entered_by     varchar(20),
  upd_ts         DATETIME NOT NULL
);
CREATE INDEX ix_allergy_pat    ON pat_allergy (pat_id, allergy_status);
CREATE INDEX ix_allergy_snomed ON pat_allergy (snomed_cd);
CREATE INDEX ix_allergy_dt     ON pat_allergy (entered_dttm);
CREATE INDEX ix_allergy_upd_ts ON pat_allergy (upd_ts);

CREATE TABLE drug_code (
  drug_cd   varchar(10)  PRIMARY KEY,
  rxnorm_cd varchar(20)  NOT NULL UNIQUE,
  drug_nm   varchar(200) NOT NULL
);

CREATE TABLE med_order (
  order_id      INTEGER PRIMARY KEY AUTOINCREMENT,
  pat_id        integer     NOT NULL REFERENCES pat_master (pat_id),
  visit_id      integer     REFERENCES visit (visit_id),
  drug_cd       varchar(10) NOT NULL REFERENCES drug_code (drug_cd),
  order_status  char(1)     NOT NULL,
  intent_cd     char(1)     NOT NULL,
  reported_yn   char(1),
  order_dt      date,
  prescriber_id varchar(20),
  sig_text      varchar(200),
  upd_ts        DATETIME NOT NULL
);
CREATE INDEX ix_medord_pat_dt  ON med_order (pat_id, order_dt);
CREATE INDEX ix_medord_pat_st  ON med_order (pat_id, order_status);
CREATE INDEX ix_medord_visit   ON med_order (visit_id);
CREATE INDEX ix_medord_drug    ON med_order (drug_cd);
CREATE INDEX ix_medord_dt      ON med_order (order_dt);
CREATE INDEX ix_medord_upd_ts  ON med_order (upd_ts);

CREATE TABLE vacc_code (
  cvx_cd  varchar(3)   PRIMARY KEY,
  vacc_nm varchar(200) NOT NULL
);

CREATE TABLE immun_admin (
  immun_id     INTEGER PRIMARY KEY AUTOINCREMENT,
  pat_id       integer     NOT NULL REFERENCES pat_master (pat_id),
  cvx_cd       varchar(3)  NOT NULL REFERENCES vacc_code (cvx_cd),
  immun_status char(1)     NOT NULL,
  refusal_cd   varchar(10),
  admin_dttm   DATETIME NOT NULL,
  src_yn       char(1),
  lot_no       varchar(20),
  admin_by     varchar(20),
  upd_ts       DATETIME NOT NULL
);
CREATE INDEX ix_immun_pat_dt  ON immun_admin (pat_id, admin_dttm);
CREATE INDEX ix_immun_dt      ON immun_admin (admin_dttm);
CREATE INDEX ix_immun_cvx     ON immun_admin (cvx_cd);
CREATE INDEX ix_immun_lot     ON immun_admin (lot_no COLLATE NOCASE);
CREATE INDEX ix_immun_upd_ts  ON immun_admin (upd_ts);

CREATE TABLE proc_log (
  proc_id     INTEGER PRIMARY KEY AUTOINCREMENT,
  pat_id      integer     NOT NULL REFERENCES pat_master (pat_id),
  visit_id    integer     REFERENCES visit (visit_id),
  proc_status char(1)     NOT NULL,
  cpt_cd      varchar(10),
  snomed_cd   varchar(20),
  proc_desc   varchar(200),
  start_dttm  DATETIME NOT NULL,
  end_dttm    DATETIME,
  surgeon_id  varchar(20),
  upd_ts      DATETIME NOT NULL
);
CREATE INDEX ix_proc_pat_dt  ON proc_log (pat_id, start_dttm);
CREATE INDEX ix_proc_pat_cpt ON proc_log (pat_id, cpt_cd);
CREATE INDEX ix_proc_cpt     ON proc_log (cpt_cd);
CREATE INDEX ix_proc_snomed  ON proc_log (snomed_cd);
CREATE INDEX ix_proc_dt      ON proc_log (start_dttm);
CREATE INDEX ix_proc_visit   ON proc_log (visit_id);
CREATE INDEX ix_proc_upd_ts  ON proc_log (upd_ts);
