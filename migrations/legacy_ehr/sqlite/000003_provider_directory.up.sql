-- The EHR's provider directory: facilities, departments (the codes
-- PatientVisit.Department holds) and providers (ProviderKey is what
-- LabResult.OrderingProviderID holds). The old tables keep their columns:
-- specs join the directory through them. Keep parallel to the other
-- dialects' files. SQLite: uuids as text, BIT as 0/1.
CREATE TABLE "FacilityMaster" (
  "FacilityGUID" UNIQUEIDENTIFIER NOT NULL DEFAULT (lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + abs(random()) % 4, 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))),
  "FacilityName" NVARCHAR(100) NOT NULL,
  "NPI"          CHAR(10)     NULL,
  "Phone"        NVARCHAR(25)  NULL,
  "Address1"     NVARCHAR(100) NULL,
  "City"         NVARCHAR(60)  NULL,
  "StateCode"    CHAR(2)      NULL,
  "Zip"          NVARCHAR(10)  NULL,
  "IsActive"     BIT          NOT NULL DEFAULT 1,
  "ModifiedAt"   DATETIME2(3) NOT NULL,
  CONSTRAINT "PK_FacilityMaster" PRIMARY KEY ("FacilityGUID")
);
CREATE INDEX "IX_FacilityMaster_FacilityName" ON "FacilityMaster" ("FacilityName" COLLATE NOCASE);

CREATE TABLE "Department" (
  "Code"         NVARCHAR(10)  NOT NULL,
  "Name"         NVARCHAR(100) NOT NULL,
  "FacilityGUID" UNIQUEIDENTIFIER NULL,
  "Phone"        NVARCHAR(25)  NULL,
  "IsActive"     BIT          NOT NULL DEFAULT 1,
  "ModifiedAt"   DATETIME2(3) NOT NULL,
  CONSTRAINT "PK_Department" PRIMARY KEY ("Code"),
  CONSTRAINT "FK_Department_FacilityMaster" FOREIGN KEY ("FacilityGUID") REFERENCES "FacilityMaster" ("FacilityGUID")
);
CREATE INDEX "IX_Department_Name"         ON "Department" ("Name" COLLATE NOCASE);
CREATE INDEX "IX_Department_FacilityGUID" ON "Department" ("FacilityGUID");

CREATE TABLE "ProviderMaster" (
  "ProviderGUID" UNIQUEIDENTIFIER NOT NULL DEFAULT (lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + abs(random()) % 4, 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))),
  "ProviderKey"  NVARCHAR(20)  NOT NULL,
  "NPI"          CHAR(10)     NOT NULL,
  "LastName"     NVARCHAR(60)  NOT NULL,
  "FirstName"    NVARCHAR(60)  NULL,
  "Credentials"  NVARCHAR(20)  NULL,
  "Phone"        NVARCHAR(25)  NULL,
  "IsActive"     BIT          NOT NULL DEFAULT 1,
  "ModifiedAt"   DATETIME2(3) NOT NULL,
  CONSTRAINT "PK_ProviderMaster" PRIMARY KEY ("ProviderGUID"),
  CONSTRAINT "UQ_ProviderMaster_ProviderKey" UNIQUE ("ProviderKey")
);
CREATE INDEX "IX_ProviderMaster_LastName" ON "ProviderMaster" ("LastName" COLLATE NOCASE);
CREATE INDEX "IX_ProviderMaster_NPI"      ON "ProviderMaster" ("NPI");
