-- Second demo legacy schema, a port of a SQL Server EHR database to SQLite.
-- SQLite has no schemas: the tables are the dbo ones without the qualifier.
-- Names are quoted and kept PascalCase; declared types are spelled as on SQL
-- Server (SQLite accepts any type name) so that introspection sees them.
-- Stored values (see ../README.md): uuids as canonical lowercase text,
-- DATETIMEOFFSET as ISO-8601 text with its offset
-- ('2024-03-01T15:55:06-05:00'), DATETIME2 as 'YYYY-MM-DD HH:MM:SS.fffffff'
-- text, BIT as 0/1, DECIMAL/MONEY with NUMERIC affinity (stored as REAL or
-- INTEGER: trailing zeros are not kept). Keep it parallel to the SQL Server
-- and PostgreSQL files.
CREATE TABLE "RaceCode" (
  "Code"        NVARCHAR(10)  NOT NULL PRIMARY KEY,
  "Description" NVARCHAR(100) NOT NULL,
  "CDCCode"     VARCHAR(10)   NULL,
  "IsActive"    BIT           NOT NULL DEFAULT 1
);

CREATE TABLE "EthnicityCode" (
  "Code"        NVARCHAR(10)  NOT NULL PRIMARY KEY,
  "Description" NVARCHAR(100) NOT NULL,
  "CDCCode"     VARCHAR(10)   NULL,
  "IsActive"    BIT           NOT NULL DEFAULT 1
);

CREATE TABLE "VisitType" (
  "Code"        NVARCHAR(10)  NOT NULL PRIMARY KEY,
  "Description" NVARCHAR(100) NOT NULL,
  "IsInpatient" BIT           NOT NULL DEFAULT 0
);

CREATE TABLE "LabTest" (
  "LocalCode" NVARCHAR(20)  NOT NULL PRIMARY KEY,
  "LOINC"     VARCHAR(10)   NULL,
  "Display"   NVARCHAR(200) NOT NULL,
  "Unit"      NVARCHAR(20)  NULL,
  "IsActive"  BIT           NOT NULL DEFAULT 1
);

-- The uuid defaults build a random version-4 uuid as lowercase text, like
-- NEWID() / gen_random_uuid() on the other dialects.
CREATE TABLE "PatientMaster" (
  "PatientGUID"   UNIQUEIDENTIFIER  NOT NULL PRIMARY KEY DEFAULT (lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + abs(random()) % 4, 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))),
  "MRN"           NVARCHAR(20)      NOT NULL UNIQUE,
  "SiteCode"      VARCHAR(10)       NOT NULL,
  "LastName"      NVARCHAR(60)      NOT NULL,
  "FirstName"     NVARCHAR(60)      NULL,
  "MiddleName"    NVARCHAR(60)      NULL,
  "Name Prefix"   NVARCHAR(20)      NULL,
  "DOB"           DATE              NULL,
  "SexCode"       CHAR(1)           NULL,
  "RaceCode"      NVARCHAR(10)      NULL REFERENCES "RaceCode" ("Code"),
  "EthnicityCode" NVARCHAR(10)      NULL REFERENCES "EthnicityCode" ("Code"),
  "Address1"      NVARCHAR(100)     NULL,
  "City"          NVARCHAR(60)      NULL,
  "StateCode"     CHAR(2)           NULL,
  "Zip"           VARCHAR(10)       NULL,
  "Latitude"      DECIMAL(9,6)      NULL,
  "Longitude"     DECIMAL(9,6)      NULL,
  "HomePhone"     VARCHAR(25)       NULL,
  "DeathDate"     DATETIME2(0)      NULL,
  "SSN"           CHAR(11)          NULL,
  "IsActive"      BIT               NOT NULL DEFAULT 1,
  "ModifiedAt"    DATETIMEOFFSET(7) NULL,
  "CreatedAt"     DATETIME2(7)      NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now') || '0000')
);
CREATE INDEX "IX_PatientMaster_LastName"   ON "PatientMaster" ("LastName" COLLATE NOCASE);
CREATE INDEX "IX_PatientMaster_DOB"        ON "PatientMaster" ("DOB");
CREATE INDEX "IX_PatientMaster_ModifiedAt" ON "PatientMaster" ("ModifiedAt");

CREATE TABLE "PatientVisit" (
  "VisitGUID"         UNIQUEIDENTIFIER  NOT NULL PRIMARY KEY DEFAULT (lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + abs(random()) % 4, 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))),
  "PatientGUID"       UNIQUEIDENTIFIER  NOT NULL REFERENCES "PatientMaster" ("PatientGUID"),
  "VisitNumber"       VARCHAR(20)       NOT NULL UNIQUE,
  "VisitTypeCode"     NVARCHAR(10)      NOT NULL REFERENCES "VisitType" ("Code"),
  "StatusCode"        CHAR(1)           NOT NULL,
  "AdmitDateTime"     DATETIMEOFFSET(0) NOT NULL,
  "DischargeDateTime" DATETIMEOFFSET(0) NULL,
  "Department"        NVARCHAR(50)      NULL,
  "ModifiedAt"        DATETIME2(3)      NOT NULL
);
CREATE INDEX "IX_PatientVisit_PatientGUID_AdmitDateTime" ON "PatientVisit" ("PatientGUID", "AdmitDateTime");
CREATE INDEX "IX_PatientVisit_AdmitDateTime"             ON "PatientVisit" ("AdmitDateTime");
CREATE INDEX "IX_PatientVisit_ModifiedAt"                ON "PatientVisit" ("ModifiedAt");

CREATE TABLE "LabResult" (
  "ResultGUID"         UNIQUEIDENTIFIER  NOT NULL PRIMARY KEY DEFAULT (lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + abs(random()) % 4, 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))),
  "PatientGUID"        UNIQUEIDENTIFIER  NOT NULL REFERENCES "PatientMaster" ("PatientGUID"),
  "VisitGUID"          UNIQUEIDENTIFIER  NULL REFERENCES "PatientVisit" ("VisitGUID"),
  "TestCode"           NVARCHAR(20)      NOT NULL REFERENCES "LabTest" ("LocalCode"),
  "NumericValue"       DECIMAL(12,4)     NULL,
  "TextValue"          NVARCHAR(100)     NULL,
  "Units"              NVARCHAR(20)      NULL,
  "ReferenceRange"     NVARCHAR(40)      NULL,
  "AbnormalFlag"       CHAR(1)           NULL,
  "ResultStatus"       CHAR(1)           NOT NULL,
  "CollectedAt"        DATETIMEOFFSET(0) NOT NULL,
  "Charge"             MONEY             NULL,
  "OrderingProviderID" NVARCHAR(20)      NULL,
  "ModifiedAt"         DATETIMEOFFSET(7) NOT NULL
);
CREATE INDEX "IX_LabResult_CollectedAt"             ON "LabResult" ("CollectedAt");
CREATE INDEX "IX_LabResult_PatientGUID_CollectedAt" ON "LabResult" ("PatientGUID", "CollectedAt");
CREATE INDEX "IX_LabResult_PatientGUID_TestCode"    ON "LabResult" ("PatientGUID", "TestCode", "CollectedAt");
CREATE INDEX "IX_LabResult_VisitGUID"               ON "LabResult" ("VisitGUID");
CREATE INDEX "IX_LabResult_ModifiedAt"              ON "LabResult" ("ModifiedAt");
