-- Second demo legacy schema, a port of a SQL Server EHR database: the dbo
-- schema and the PascalCase names are kept, so every name is quoted
-- ("PatientGUID" is not patientguid). Type map: uniqueidentifier -> uuid,
-- datetimeoffset -> timestamptz, datetime2 -> timestamp, money ->
-- numeric(19,4), bit -> boolean, nvarchar -> varchar. Keep it parallel to
-- the SQL Server and SQLite files; see ../README.md.
CREATE SCHEMA IF NOT EXISTS dbo;

CREATE TABLE dbo."RaceCode" (
  "Code"        varchar(10)  NOT NULL,
  "Description" varchar(100) NOT NULL,
  "CDCCode"     varchar(10)  NULL,
  "IsActive"    boolean      NOT NULL DEFAULT true,
  CONSTRAINT "PK_RaceCode" PRIMARY KEY ("Code")
);

CREATE TABLE dbo."EthnicityCode" (
  "Code"        varchar(10)  NOT NULL,
  "Description" varchar(100) NOT NULL,
  "CDCCode"     varchar(10)  NULL,
  "IsActive"    boolean      NOT NULL DEFAULT true,
  CONSTRAINT "PK_EthnicityCode" PRIMARY KEY ("Code")
);

CREATE TABLE dbo."VisitType" (
  "Code"        varchar(10)  NOT NULL,
  "Description" varchar(100) NOT NULL,
  "IsInpatient" boolean      NOT NULL DEFAULT false,
  CONSTRAINT "PK_VisitType" PRIMARY KEY ("Code")
);

CREATE TABLE dbo."LabTest" (
  "LocalCode" varchar(20)  NOT NULL,
  "LOINC"     varchar(10)  NULL,
  "Display"   varchar(200) NOT NULL,
  "Unit"      varchar(20)  NULL,
  "IsActive"  boolean      NOT NULL DEFAULT true,
  CONSTRAINT "PK_LabTest" PRIMARY KEY ("LocalCode")
);

CREATE TABLE dbo."PatientMaster" (
  "PatientGUID"   uuid           NOT NULL DEFAULT gen_random_uuid(),
  "MRN"           varchar(20)    NOT NULL,
  "SiteCode"      varchar(10)    NOT NULL,
  "LastName"      varchar(60)    NOT NULL,
  "FirstName"     varchar(60)    NULL,
  "MiddleName"    varchar(60)    NULL,
  "Name Prefix"   varchar(20)    NULL,
  "DOB"           date           NULL,
  "SexCode"       char(1)        NULL,
  "RaceCode"      varchar(10)    NULL,
  "EthnicityCode" varchar(10)    NULL,
  "Address1"      varchar(100)   NULL,
  "City"          varchar(60)    NULL,
  "StateCode"     char(2)        NULL,
  "Zip"           varchar(10)    NULL,
  "Latitude"      numeric(9,6)   NULL,
  "Longitude"     numeric(9,6)   NULL,
  "HomePhone"     varchar(25)    NULL,
  "DeathDate"     timestamp(0)   NULL,
  "SSN"           char(11)       NULL,
  "IsActive"      boolean        NOT NULL DEFAULT true,
  "ModifiedAt"    timestamptz(6) NULL,
  "CreatedAt"     timestamp(6)   NOT NULL DEFAULT LOCALTIMESTAMP,
  CONSTRAINT "PK_PatientMaster" PRIMARY KEY ("PatientGUID"),
  CONSTRAINT "UQ_PatientMaster_MRN" UNIQUE ("MRN"),
  CONSTRAINT "FK_PatientMaster_RaceCode" FOREIGN KEY ("RaceCode") REFERENCES dbo."RaceCode" ("Code"),
  CONSTRAINT "FK_PatientMaster_EthnicityCode" FOREIGN KEY ("EthnicityCode") REFERENCES dbo."EthnicityCode" ("Code")
);
-- lower(...) text_pattern_ops: what the SQL Server index on a
-- case-insensitive collation gives there (case-insensitive prefix search).
CREATE INDEX "IX_PatientMaster_LastName"   ON dbo."PatientMaster" (lower("LastName") text_pattern_ops);
CREATE INDEX "IX_PatientMaster_DOB"        ON dbo."PatientMaster" ("DOB");
CREATE INDEX "IX_PatientMaster_ModifiedAt" ON dbo."PatientMaster" ("ModifiedAt");

CREATE TABLE dbo."PatientVisit" (
  "VisitGUID"         uuid           NOT NULL DEFAULT gen_random_uuid(),
  "PatientGUID"       uuid           NOT NULL,
  "VisitNumber"       varchar(20)    NOT NULL,
  "VisitTypeCode"     varchar(10)    NOT NULL,
  "StatusCode"        char(1)        NOT NULL,
  "AdmitDateTime"     timestamptz(0) NOT NULL,
  "DischargeDateTime" timestamptz(0) NULL,
  "Department"        varchar(50)    NULL,
  "ModifiedAt"        timestamp(3)   NOT NULL,
  CONSTRAINT "PK_PatientVisit" PRIMARY KEY ("VisitGUID"),
  CONSTRAINT "UQ_PatientVisit_VisitNumber" UNIQUE ("VisitNumber"),
  CONSTRAINT "FK_PatientVisit_PatientMaster" FOREIGN KEY ("PatientGUID") REFERENCES dbo."PatientMaster" ("PatientGUID"),
  CONSTRAINT "FK_PatientVisit_VisitType" FOREIGN KEY ("VisitTypeCode") REFERENCES dbo."VisitType" ("Code")
);
CREATE INDEX "IX_PatientVisit_PatientGUID_AdmitDateTime" ON dbo."PatientVisit" ("PatientGUID", "AdmitDateTime");
CREATE INDEX "IX_PatientVisit_AdmitDateTime"             ON dbo."PatientVisit" ("AdmitDateTime");
CREATE INDEX "IX_PatientVisit_ModifiedAt"                ON dbo."PatientVisit" ("ModifiedAt");

CREATE TABLE dbo."LabResult" (
  "ResultGUID"         uuid           NOT NULL DEFAULT gen_random_uuid(),
  "PatientGUID"        uuid           NOT NULL,
  "VisitGUID"          uuid           NULL,
  "TestCode"           varchar(20)    NOT NULL,
  "NumericValue"       numeric(12,4)  NULL,
  "TextValue"          varchar(100)   NULL,
  "Units"              varchar(20)    NULL,
  "ReferenceRange"     varchar(40)    NULL,
  "AbnormalFlag"       char(1)        NULL,
  "ResultStatus"       char(1)        NOT NULL,
  "CollectedAt"        timestamptz(0) NOT NULL,
  "Charge"             numeric(19,4)  NULL,
  "OrderingProviderID" varchar(20)    NULL,
  "ModifiedAt"         timestamptz(6) NOT NULL,
  CONSTRAINT "PK_LabResult" PRIMARY KEY ("ResultGUID"),
  CONSTRAINT "FK_LabResult_PatientMaster" FOREIGN KEY ("PatientGUID") REFERENCES dbo."PatientMaster" ("PatientGUID"),
  CONSTRAINT "FK_LabResult_PatientVisit" FOREIGN KEY ("VisitGUID") REFERENCES dbo."PatientVisit" ("VisitGUID"),
  CONSTRAINT "FK_LabResult_LabTest" FOREIGN KEY ("TestCode") REFERENCES dbo."LabTest" ("LocalCode")
);
CREATE INDEX "IX_LabResult_CollectedAt"             ON dbo."LabResult" ("CollectedAt");
CREATE INDEX "IX_LabResult_PatientGUID_CollectedAt" ON dbo."LabResult" ("PatientGUID", "CollectedAt");
CREATE INDEX "IX_LabResult_PatientGUID_TestCode"    ON dbo."LabResult" ("PatientGUID", "TestCode", "CollectedAt");
CREATE INDEX "IX_LabResult_VisitGUID"               ON dbo."LabResult" ("VisitGUID");
CREATE INDEX "IX_LabResult_ModifiedAt"              ON dbo."LabResult" ("ModifiedAt");
