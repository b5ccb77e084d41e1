-- The EHR's provider directory: facilities, departments (the codes
-- PatientVisit.Department holds) and providers (ProviderKey is what
-- LabResult.OrderingProviderID holds). The old tables keep their columns:
-- specs join the directory through them. Keep parallel to the other
-- dialects' files.
CREATE TABLE dbo."FacilityMaster" (
  "FacilityGUID" uuid         NOT NULL DEFAULT gen_random_uuid(),
  "FacilityName" varchar(100) NOT NULL,
  "NPI"          char(10)     NULL,
  "Phone"        varchar(25)  NULL,
  "Address1"     varchar(100) NULL,
  "City"         varchar(60)  NULL,
  "StateCode"    char(2)      NULL,
  "Zip"          varchar(10)  NULL,
  "IsActive"     boolean      NOT NULL DEFAULT true,
  "ModifiedAt"   timestamp(3) NOT NULL,
  CONSTRAINT "PK_FacilityMaster" PRIMARY KEY ("FacilityGUID")
);
CREATE INDEX "IX_FacilityMaster_FacilityName" ON dbo."FacilityMaster" (lower("FacilityName") text_pattern_ops);

CREATE TABLE dbo."Department" (
  "Code"         varchar(10)  NOT NULL,
  "Name"         varchar(100) NOT NULL,
  "FacilityGUID" uuid         NULL,
  "Phone"        varchar(25)  NULL,
  "IsActive"     boolean      NOT NULL DEFAULT true,
  "ModifiedAt"   timestamp(3) NOT NULL,
  CONSTRAINT "PK_Department" PRIMARY KEY ("Code"),
  CONSTRAINT "FK_Department_FacilityMaster" FOREIGN KEY ("FacilityGUID") REFERENCES dbo."FacilityMaster" ("FacilityGUID")
);
CREATE INDEX "IX_Department_Name"         ON dbo."Department" (lower("Name") text_pattern_ops);
CREATE INDEX "IX_Department_FacilityGUID" ON dbo."Department" ("FacilityGUID");

CREATE TABLE dbo."ProviderMaster" (
  "ProviderGUID" uuid         NOT NULL DEFAULT gen_random_uuid(),
  "ProviderKey"  varchar(20)  NOT NULL,
  "NPI"          char(10)     NOT NULL,
  "LastName"     varchar(60)  NOT NULL,
  "FirstName"    varchar(60)  NULL,
  "Credentials"  varchar(20)  NULL,
  "Phone"        varchar(25)  NULL,
  "IsActive"     boolean      NOT NULL DEFAULT true,
  "ModifiedAt"   timestamp(3) NOT NULL,
  CONSTRAINT "PK_ProviderMaster" PRIMARY KEY ("ProviderGUID"),
  CONSTRAINT "UQ_ProviderMaster_ProviderKey" UNIQUE ("ProviderKey")
);
CREATE INDEX "IX_ProviderMaster_LastName" ON dbo."ProviderMaster" (lower("LastName") text_pattern_ops);
CREATE INDEX "IX_ProviderMaster_NPI"      ON dbo."ProviderMaster" ("NPI");
