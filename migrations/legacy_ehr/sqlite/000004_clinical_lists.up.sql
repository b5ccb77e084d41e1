-- The EHR's clinical lists: problem list (with a diagnosis code lookup),
-- allergies, medication orders (with the formulary), vaccine
-- administrations (with the CVX lookup) and procedure history. uuid keys,
-- datetimeoffset recording times (varied offsets) beside datetime2 wall-clock
-- stamps, words and letters as status codes, bit flags, nullable columns.
-- Clinicians are ProviderMaster keys. Keep parallel to the other
-- dialects' files. SQLite: uuids as text, BIT as 0/1, offsets kept in the text.

CREATE TABLE "DiagnosisCode" (
  "Code"        NVARCHAR(20)  NOT NULL,
  "SNOMEDCT"    NVARCHAR(20)  NULL,
  "ICD10CM"     NVARCHAR(10)  NULL,
  "Description" NVARCHAR(200) NOT NULL,
  "IsActive"    BIT           NOT NULL DEFAULT 1,
  CONSTRAINT "PK_DiagnosisCode" PRIMARY KEY ("Code")
);

CREATE TABLE "ProblemList" (
  "ProblemGUID"      UNIQUEIDENTIFIER  NOT NULL DEFAULT (lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + abs(random()) % 4, 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))),
  "PatientGUID"      UNIQUEIDENTIFIER  NOT NULL,
  "VisitGUID"        UNIQUEIDENTIFIER  NULL,
  "DiagnosisCode"    NVARCHAR(20)      NOT NULL,
  "ListType"         CHAR(1)           NOT NULL,
  "ProblemStatus"    NVARCHAR(12)      NULL,
  "VerificationCode" CHAR(1)           NULL,
  "OnsetDate"        DATE              NULL,
  "ResolvedDate"     DATE              NULL,
  "RecordedAt"       DATETIMEOFFSET(0) NULL,
  "RecordedByGUID"   UNIQUEIDENTIFIER  NULL,
  "IsConfidential"   BIT               NOT NULL DEFAULT 0,
  "ModifiedAt"       DATETIMEOFFSET(7) NOT NULL,
  CONSTRAINT "PK_ProblemList" PRIMARY KEY ("ProblemGUID"),
  CONSTRAINT "FK_ProblemList_PatientGUID" FOREIGN KEY ("PatientGUID") REFERENCES "PatientMaster" ("PatientGUID"),
  CONSTRAINT "FK_ProblemList_VisitGUID" FOREIGN KEY ("VisitGUID") REFERENCES "PatientVisit" ("VisitGUID"),
  CONSTRAINT "FK_ProblemList_DiagnosisCode" FOREIGN KEY ("DiagnosisCode") REFERENCES "DiagnosisCode" ("Code"),
  CONSTRAINT "FK_ProblemList_RecordedByGUID" FOREIGN KEY ("RecordedByGUID") REFERENCES "ProviderMaster" ("ProviderGUID")
);
CREATE INDEX "IX_ProblemList_PatientGUID_OnsetDate" ON "ProblemList" ("PatientGUID", "OnsetDate");
CREATE INDEX "IX_ProblemList_PatientGUID_ListType" ON "ProblemList" ("PatientGUID", "ListType");
CREATE INDEX "IX_ProblemList_DiagnosisCode" ON "ProblemList" ("DiagnosisCode");
CREATE INDEX "IX_ProblemList_OnsetDate" ON "ProblemList" ("OnsetDate");
CREATE INDEX "IX_ProblemList_VisitGUID" ON "ProblemList" ("VisitGUID");
CREATE INDEX "IX_ProblemList_RecordedAt" ON "ProblemList" ("RecordedAt");
CREATE INDEX "IX_ProblemList_ModifiedAt" ON "ProblemList" ("ModifiedAt");

CREATE TABLE "PatientAllergy" (
  "AllergyGUID"      UNIQUEIDENTIFIER  NOT NULL DEFAULT (lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + abs(random()) % 4, 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))),
  "PatientGUID"      UNIQUEIDENTIFIER  NOT NULL,
  "AllergenSNOMED"   NVARCHAR(20)      NULL,
  "AllergenName"     NVARCHAR(200)     NOT NULL,
  "AllergenType"     NVARCHAR(12)      NOT NULL,
  "Criticality"      NVARCHAR(12)      NULL,
  "AllergyStatus"    CHAR(1)           NOT NULL,
  "VerificationCode" CHAR(1)           NULL,
  "ReactionSNOMED"   NVARCHAR(20)      NULL,
  "Reaction"         NVARCHAR(100)     NULL,
  "ReactionSeverity" NVARCHAR(10)      NULL,
  "EnteredAt"        DATETIMEOFFSET(0) NULL,
  "EnteredByGUID"    UNIQUEIDENTIFIER  NULL,
  "ModifiedAt"       DATETIME2(3)      NOT NULL,
  CONSTRAINT "PK_PatientAllergy" PRIMARY KEY ("AllergyGUID"),
  CONSTRAINT "FK_PatientAllergy_PatientGUID" FOREIGN KEY ("PatientGUID") REFERENCES "PatientMaster" ("PatientGUID"),
  CONSTRAINT "FK_PatientAllergy_EnteredByGUID" FOREIGN KEY ("EnteredByGUID") REFERENCES "ProviderMaster" ("ProviderGUID")
);
CREATE INDEX "IX_PatientAllergy_PatientGUID_AllergyStatus" ON "PatientAllergy" ("PatientGUID", "AllergyStatus");
CREATE INDEX "IX_PatientAllergy_AllergenSNOMED" ON "PatientAllergy" ("AllergenSNOMED");
CREATE INDEX "IX_PatientAllergy_EnteredAt" ON "PatientAllergy" ("EnteredAt");
CREATE INDEX "IX_PatientAllergy_EnteredByGUID" ON "PatientAllergy" ("EnteredByGUID");
CREATE INDEX "IX_PatientAllergy_ModifiedAt" ON "PatientAllergy" ("ModifiedAt");

CREATE TABLE "Formulary" (
  "DrugCode" NVARCHAR(20)  NOT NULL,
  "RxNorm"   NVARCHAR(20)  NOT NULL,
  "DrugName" NVARCHAR(200) NOT NULL,
  "IsActive" BIT           NOT NULL DEFAULT 1,
  CONSTRAINT "PK_Formulary" PRIMARY KEY ("DrugCode")
);
CREATE INDEX "IX_Formulary_RxNorm" ON "Formulary" ("RxNorm");

CREATE TABLE "MedicationOrder" (
  "OrderGUID"      UNIQUEIDENTIFIER  NOT NULL DEFAULT (lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + abs(random()) % 4, 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))),
  "PatientGUID"    UNIQUEIDENTIFIER  NOT NULL,
  "VisitGUID"      UNIQUEIDENTIFIER  NULL,
  "DrugCode"       NVARCHAR(20)      NOT NULL,
  "OrderStatus"    NVARCHAR(12)      NOT NULL,
  "OrderClass"     CHAR(1)           NOT NULL,
  "Sig"            NVARCHAR(400)     NULL,
  "DispenseQty"    DECIMAL(9,2)      NULL,
  "OrderedAt"      DATETIMEOFFSET(0) NOT NULL,
  "PrescriberGUID" UNIQUEIDENTIFIER  NULL,
  "ModifiedAt"     DATETIMEOFFSET(7) NOT NULL,
  CONSTRAINT "PK_MedicationOrder" PRIMARY KEY ("OrderGUID"),
  CONSTRAINT "FK_MedicationOrder_PatientGUID" FOREIGN KEY ("PatientGUID") REFERENCES "PatientMaster" ("PatientGUID"),
  CONSTRAINT "FK_MedicationOrder_VisitGUID" FOREIGN KEY ("VisitGUID") REFERENCES "PatientVisit" ("VisitGUID"),
  CONSTRAINT "FK_MedicationOrder_DrugCode" FOREIGN KEY ("DrugCode") REFERENCES "Formulary" ("DrugCode"),
  CONSTRAINT "FK_MedicationOrder_PrescriberGUID" FOREIGN KEY ("PrescriberGUID") REFERENCES "ProviderMaster" ("ProviderGUID")
);
CREATE INDEX "IX_MedicationOrder_PatientGUID_OrderedAt" ON "MedicationOrder" ("PatientGUID", "OrderedAt");
CREATE INDEX "IX_MedicationOrder_PatientGUID_OrderStatus" ON "MedicationOrder" ("PatientGUID", "OrderStatus");
CREATE INDEX "IX_MedicationOrder_VisitGUID" ON "MedicationOrder" ("VisitGUID");
CREATE INDEX "IX_MedicationOrder_DrugCode" ON "MedicationOrder" ("DrugCode");
CREATE INDEX "IX_MedicationOrder_OrderedAt" ON "MedicationOrder" ("OrderedAt");
CREATE INDEX "IX_MedicationOrder_PrescriberGUID" ON "MedicationOrder" ("PrescriberGUID");
CREATE INDEX "IX_MedicationOrder_ModifiedAt" ON "MedicationOrder" ("ModifiedAt");

CREATE TABLE "VaccineCode" (
  "CVXCode"     NVARCHAR(3)   NOT NULL,
  "VaccineName" NVARCHAR(200) NOT NULL,
  "IsActive"    BIT           NOT NULL DEFAULT 1,
  CONSTRAINT "PK_VaccineCode" PRIMARY KEY ("CVXCode")
);

CREATE TABLE "VaccineAdministration" (
  "AdminGUID"          UNIQUEIDENTIFIER  NOT NULL DEFAULT (lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + abs(random()) % 4, 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))),
  "PatientGUID"        UNIQUEIDENTIFIER  NOT NULL,
  "VisitGUID"          UNIQUEIDENTIFIER  NULL,
  "CVXCode"            NVARCHAR(3)       NOT NULL,
  "AdminStatus"        CHAR(1)           NOT NULL,
  "RefusalReason"      NVARCHAR(10)      NULL,
  "AdministeredAt"     DATETIMEOFFSET(0) NOT NULL,
  "PrimarySource"      CHAR(1)           NULL,
  "LotNumber"          NVARCHAR(20)      NULL,
  "DoseML"             DECIMAL(5,2)      NULL,
  "AdministeredByGUID" UNIQUEIDENTIFIER  NULL,
  "ModifiedAt"         DATETIMEOFFSET(7) NOT NULL,
  CONSTRAINT "PK_VaccineAdministration" PRIMARY KEY ("AdminGUID"),
  CONSTRAINT "FK_VaccineAdministration_PatientGUID" FOREIGN KEY ("PatientGUID") REFERENCES "PatientMaster" ("PatientGUID"),
  CONSTRAINT "FK_VaccineAdministration_VisitGUID" FOREIGN KEY ("VisitGUID") REFERENCES "PatientVisit" ("VisitGUID"),
  CONSTRAINT "FK_VaccineAdministration_CVXCode" FOREIGN KEY ("CVXCode") REFERENCES "VaccineCode" ("CVXCode"),
  CONSTRAINT "FK_VaccineAdministration_AdministeredByGUID" FOREIGN KEY ("AdministeredByGUID") REFERENCES "ProviderMaster" ("ProviderGUID")
);
CREATE INDEX "IX_VaccineAdministration_PatientGUID_AdministeredAt" ON "VaccineAdministration" ("PatientGUID", "AdministeredAt");
CREATE INDEX "IX_VaccineAdministration_AdministeredAt" ON "VaccineAdministration" ("AdministeredAt");
CREATE INDEX "IX_VaccineAdministration_CVXCode" ON "VaccineAdministration" ("CVXCode");
CREATE INDEX "IX_VaccineAdministration_AdministeredByGUID" ON "VaccineAdministration" ("AdministeredByGUID");
CREATE INDEX "IX_VaccineAdministration_ModifiedAt" ON "VaccineAdministration" ("ModifiedAt");
CREATE INDEX "IX_VaccineAdministration_LotNumber" ON "VaccineAdministration" ("LotNumber" COLLATE NOCASE);

CREATE TABLE "ProcedureHistory" (
  "ProcedureGUID" UNIQUEIDENTIFIER  NOT NULL DEFAULT (lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + abs(random()) % 4, 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))),
  "PatientGUID"   UNIQUEIDENTIFIER  NOT NULL,
  "VisitGUID"     UNIQUEIDENTIFIER  NULL,
  "CPTCode"       NVARCHAR(10)      NULL,
  "SNOMEDCode"    NVARCHAR(20)      NULL,
  "ProcedureName" NVARCHAR(200)     NOT NULL,
  "StatusCode"    CHAR(1)           NOT NULL,
  "StartedAt"     DATETIMEOFFSET(0) NOT NULL,
  "EndedAt"       DATETIMEOFFSET(0) NULL,
  "SurgeonGUID"   UNIQUEIDENTIFIER  NULL,
  "ModifiedAt"    DATETIME2(3)      NOT NULL,
  CONSTRAINT "PK_ProcedureHistory" PRIMARY KEY ("ProcedureGUID"),
  CONSTRAINT "FK_ProcedureHistory_PatientGUID" FOREIGN KEY ("PatientGUID") REFERENCES "PatientMaster" ("PatientGUID"),
  CONSTRAINT "FK_ProcedureHistory_VisitGUID" FOREIGN KEY ("VisitGUID") REFERENCES "PatientVisit" ("VisitGUID"),
  CONSTRAINT "FK_ProcedureHistory_SurgeonGUID" FOREIGN KEY ("SurgeonGUID") REFERENCES "ProviderMaster" ("ProviderGUID")
);
CREATE INDEX "IX_ProcedureHistory_PatientGUID_StartedAt" ON "ProcedureHistory" ("PatientGUID", "StartedAt");
CREATE INDEX "IX_ProcedureHistory_PatientGUID_CPTCode" ON "ProcedureHistory" ("PatientGUID", "CPTCode");
CREATE INDEX "IX_ProcedureHistory_CPTCode" ON "ProcedureHistory" ("CPTCode");
CREATE INDEX "IX_ProcedureHistory_SNOMEDCode" ON "ProcedureHistory" ("SNOMEDCode");
CREATE INDEX "IX_ProcedureHistory_StartedAt" ON "ProcedureHistory" ("StartedAt");
CREATE INDEX "IX_ProcedureHistory_EndedAt" ON "ProcedureHistory" ("EndedAt");
CREATE INDEX "IX_ProcedureHistory_VisitGUID" ON "ProcedureHistory" ("VisitGUID");
CREATE INDEX "IX_ProcedureHistory_SurgeonGUID" ON "ProcedureHistory" ("SurgeonGUID");
CREATE INDEX "IX_ProcedureHistory_ModifiedAt" ON "ProcedureHistory" ("ModifiedAt");
