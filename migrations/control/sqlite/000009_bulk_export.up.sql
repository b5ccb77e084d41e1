-- Bulk Data $export jobs (package bulk, through control's typed methods).
-- A job is claimed by one facade at a time with a lease (lease_owner,
-- lease_until in Unix milliseconds, compared in SQL on both dialects); a
-- facade that dies stops renewing it and another one takes the job over.
CREATE TABLE bulk_job (
  id               varchar(64)  PRIMARY KEY,
  owner            varchar(128) NOT NULL,  -- digest of the principal that started it
  request          text         NOT NULL,  -- the kick-off URL, for the manifest
  spec             text         NOT NULL,  -- JSON: level, types, _since, filters, format
  status           varchar(16)  NOT NULL,  -- queued, running, done, failed, cancelled
  transaction_time text NOT NULL,
  created_at       text NOT NULL,
  finished_at      text NULL,
  error            text         NULL,      -- a failed job's public reason
  lease_owner      varchar(128) NULL,
  lease_until      bigint       NOT NULL DEFAULT 0
);
CREATE INDEX bulk_job_status ON bulk_job (status, lease_until);
-- One output file of a job (one resource type, optionally one _typeFilter):
-- where its export stands. cursor is the backend's position after the last
-- committed page; bytes/lines/pages what the file held when that page was
-- committed, so a resumed job cuts the file back to exactly that.
CREATE TABLE bulk_part (
  job_id        varchar(64) NOT NULL REFERENCES bulk_job (id) ON DELETE CASCADE,
  seq           integer     NOT NULL,
  resource_type varchar(64) NOT NULL,
  query         text        NOT NULL DEFAULT '',
  backend       varchar(32) NOT NULL DEFAULT '',
  cursor        text        NOT NULL DEFAULT '',
  pages         integer     NOT NULL DEFAULT 0,
  lines         bigint      NOT NULL DEFAULT 0,
  bytes         bigint      NOT NULL DEFAULT 0,
  err_lines     bigint      NOT NULL DEFAULT 0,
  err_bytes     bigint      NOT NULL DEFAULT 0,
  done          integer     NOT NULL DEFAULT 0,
  PRIMARY KEY (job_id, seq)
);
