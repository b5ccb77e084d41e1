-- The EHR's clinical lists: problem list (with a diagnosis code lookup),
-- allergies, medication orders (with the formulary), vaccine
-- administrations (with the CVX lookup) and procedure history. uuid keys,
-- datetimeoffset recording times (varied offsets) beside datetime2 wall-clock
-- stamps, words and letters as status codes, bit flags, nullable columns.
-- Clinicians are ProviderMaster keys. Keep parallel to the other
-- dialects' files. The default case-insensitive collation serves the string searches.

CREATE TABLE [dbo].[DiagnosisCode] (
  [Code]        nvarchar(20)  NOT NULL,
  [SNOMEDCT]    varchar(20)   NULL,
  [ICD10CM]     varchar(10)   NULL,
  [Description] nvarchar(200) NOT NULL,
  [IsActive]    bit           NOT NULL DEFAULT 1,
  CONSTRAINT [PK_DiagnosisCode] PRIMARY KEY ([Code])
);

CREATE TABLE [dbo].[ProblemList] (
  [ProblemGUID]      uniqueidentifier  NOT NULL DEFAULT (NEWID()),
  [PatientGUID]      uniqueidentifier  NOT NULL,
  [VisitGUID]        uniqueidentifier  NULL,
  [DiagnosisCode]    nvarchar(20)      NOT NULL,
  [ListType]         char(1)           NOT NULL,
  [ProblemStatus]    nvarchar(12)      NULL,
  [VerificationCode] char(1)           NULL,
  [OnsetDate]        date              NULL,
  [ResolvedDate]     date              NULL,
  [RecordedAt]       datetimeoffset(0) NULL,
  [RecordedByGUID]   uniqueidentifier  NULL,
  [IsConfidential]   bit               NOT NULL DEFAULT 0,
  [ModifiedAt]       datetimeoffset(7) NOT NULL,
  CONSTRAINT [PK_ProblemList] PRIMARY KEY ([ProblemGUID]),
  CONSTRAINT [FK_ProblemList_PatientGUID] FOREIGN KEY ([PatientGUID]) REFERENCES [dbo].[PatientMaster] ([PatientGUID]),
  CONSTRAINT [FK_ProblemList_VisitGUID] FOREIGN KEY ([VisitGUID]) REFERENCES [dbo].[PatientVisit] ([VisitGUID]),
  CONSTRAINT [FK_ProblemList_DiagnosisCode] FOREIGN KEY ([DiagnosisCode]) REFERENCES [dbo].[DiagnosisCode] ([Code]),
  CONSTRAINT [FK_ProblemList_RecordedByGUID] FOREIGN KEY ([RecordedByGUID]) REFERENCES [dbo].[ProviderMaster] ([ProviderGUID])
);
CREATE INDEX [IX_ProblemList_PatientGUID_OnsetDate] ON [dbo].[ProblemList] ([PatientGUID], [OnsetDate]);
CREATE INDEX [IX_ProblemList_PatientGUID_ListType] ON [dbo].[ProblemList] ([PatientGUID], [ListType]);
CREATE INDEX [IX_ProblemList_DiagnosisCode] ON [dbo].[ProblemList] ([DiagnosisCode]);
CREATE INDEX [IX_ProblemList_OnsetDate] ON [dbo].[ProblemList] ([OnsetDate]);
CREATE INDEX [IX_ProblemList_VisitGUID] ON [dbo].[ProblemList] ([VisitGUID]);
CREATE INDEX [IX_ProblemList_RecordedAt] ON [dbo].[ProblemList] ([RecordedAt]);
CREATE INDEX [IX_ProblemList_ModifiedAt] ON [dbo].[ProblemList] ([ModifiedAt]);

CREATE TABLE [dbo].[PatientAllergy] (
  [AllergyGUID]      uniqueidentifier  NOT NULL DEFAULT (NEWID()),
  [PatientGUID]      uniqueidentifier  NOT NULL,
  [AllergenSNOMED]   varchar(20)       NULL,
  [AllergenName]     nvarchar(200)     NOT NULL,
  [AllergenType]     nvarchar(12)      NOT NULL,
  [Criticality]      nvarchar(12)      NULL,
  [AllergyStatus]    char(1)           NOT NULL,
  [VerificationCode] char(1)           NULL,
  [ReactionSNOMED]   varchar(20)       NULL,
  [Reaction]         nvarchar(100)     NULL,
  [ReactionSeverity] nvarchar(10)      NULL,
  [EnteredAt]        datetimeoffset(0) NULL,
  [EnteredByGUID]    uniqueidentifier  NULL,
  [ModifiedAt]       datetime2(3)      NOT NULL,
  CONSTRAINT [PK_PatientAllergy] PRIMARY KEY ([AllergyGUID]),
  CONSTRAINT [FK_PatientAllergy_PatientGUID] FOREIGN KEY ([PatientGUID]) REFERENCES [dbo].[PatientMaster] ([PatientGUID]),
  CONSTRAINT [FK_PatientAllergy_EnteredByGUID] FOREIGN KEY ([EnteredByGUID]) REFERENCES [dbo].[ProviderMaster] ([ProviderGUID])
);
CREATE INDEX [IX_PatientAllergy_PatientGUID_AllergyStatus] ON [dbo].[PatientAllergy] ([PatientGUID], [AllergyStatus]);
CREATE INDEX [IX_PatientAllergy_AllergenSNOMED] ON [dbo].[PatientAllergy] ([AllergenSNOMED]);
CREATE INDEX [IX_PatientAllergy_EnteredAt] ON [dbo].[PatientAllergy] ([EnteredAt]);
CREATE INDEX [IX_PatientAllergy_EnteredByGUID] ON [dbo].[PatientAllergy] ([EnteredByGUID]);
CREATE INDEX [IX_PatientAllergy_ModifiedAt] ON [dbo].[PatientAllergy] ([ModifiedAt]);

CREATE TABLE [dbo].[Formulary] (
  [DrugCode] nvarchar(20)  NOT NULL,
  [RxNorm]   varchar(20)   NOT NULL,
  [DrugName] nvarchar(200) NOT NULL,
  [IsActive] bit           NOT NULL DEFAULT 1,
  CONSTRAINT [PK_Formulary] PRIMARY KEY ([DrugCode])
);
CREATE INDEX [IX_Formulary_RxNorm] ON [dbo].[Formulary] ([RxNorm]);

CREATE TABLE [dbo].[MedicationOrder] (
  [OrderGUID]      uniqueidentifier  NOT NULL DEFAULT (NEWID()),
  [PatientGUID]    uniqueidentifier  NOT NULL,
  [VisitGUID]      uniqueidentifier  NULL,
  [DrugCode]       nvarchar(20)      NOT NULL,
  [OrderStatus]    nvarchar(12)      NOT NULL,
  [OrderClass]     char(1)           NOT NULL,
  [Sig]            nvarchar(400)     NULL,
  [DispenseQty]    decimal(9,2)      NULL,
  [OrderedAt]      datetimeoffset(0) NOT NULL,
  [PrescriberGUID] uniqueidentifier  NULL,
  [ModifiedAt]     datetimeoffset(7) NOT NULL,
  CONSTRAINT [PK_MedicationOrder] PRIMARY KEY ([OrderGUID]),
  CONSTRAINT [FK_MedicationOrder_PatientGUID] FOREIGN KEY ([PatientGUID]) REFERENCES [dbo].[PatientMaster] ([PatientGUID]),
  CONSTRAINT [FK_MedicationOrder_VisitGUID] FOREIGN KEY ([VisitGUID]) REFERENCES [dbo].[PatientVisit] ([VisitGUID]),
  CONSTRAINT [FK_MedicationOrder_DrugCode] FOREIGN KEY ([DrugCode]) REFERENCES [dbo].[Formulary] ([DrugCode]),
  CONSTRAINT [FK_MedicationOrder_PrescriberGUID] FOREIGN KEY ([PrescriberGUID]) REFERENCES [dbo].[ProviderMaster] ([ProviderGUID])
);
CREATE INDEX [IX_MedicationOrder_PatientGUID_OrderedAt] ON [dbo].[MedicationOrder] ([PatientGUID], [OrderedAt]);
CREATE INDEX [IX_MedicationOrder_PatientGUID_OrderStatus] ON [dbo].[MedicationOrder] ([PatientGUID], [OrderStatus]);
CREATE INDEX [IX_MedicationOrder_VisitGUID] ON [dbo].[MedicationOrder] ([VisitGUID]);
CREATE INDEX [IX_MedicationOrder_DrugCode] ON [dbo].[MedicationOrder] ([DrugCode]);
CREATE INDEX [IX_MedicationOrder_OrderedAt] ON [dbo].[MedicationOrder] ([OrderedAt]);
CREATE INDEX [IX_MedicationOrder_PrescriberGUID] ON [dbo].[MedicationOrder] ([PrescriberGUID]);
CREATE INDEX [IX_MedicationOrder_ModifiedAt] ON [dbo].[MedicationOrder] ([ModifiedAt]);

CREATE TABLE [dbo].[VaccineCode] (
  [CVXCode]     varchar(3)    NOT NULL,
  [VaccineName] nvarchar(200) NOT NULL,
  [IsActive]    bit           NOT NULL DEFAULT 1,
  CONSTRAINT [PK_VaccineCode] PRIMARY KEY ([CVXCode])
);

CREATE TABLE [dbo].[VaccineAdministration] (
  [AdminGUID]          uniqueidentifier  NOT NULL DEFAULT (NEWID()),
  [PatientGUID]        uniqueidentifier  NOT NULL,
  [VisitGUID]          uniqueidentifier  NULL,
  [CVXCode]            varchar(3)        NOT NULL,
  [AdminStatus]        char(1)           NOT NULL,
  [RefusalReason]      varchar(10)       NULL,
  [AdministeredAt]     datetimeoffset(0) NOT NULL,
  [PrimarySource]      char(1)           NULL,
  [LotNumber]          nvarchar(20)      NULL,
  [DoseML]             decimal(5,2)      NULL,
  [AdministeredByGUID] uniqueidentifier  NULL,
  [ModifiedAt]         datetimeoffset(7) NOT NULL,
  CONSTRAINT [PK_VaccineAdministration] PRIMARY KEY ([AdminGUID]),
  CONSTRAINT [FK_VaccineAdministration_PatientGUID] FOREIGN KEY ([PatientGUID]) REFERENCES [dbo].[PatientMaster] ([PatientGUID]),
  CONSTRAINT [FK_VaccineAdministration_VisitGUID] FOREIGN KEY ([VisitGUID]) REFERENCES [dbo].[PatientVisit] ([VisitGUID]),
  CONSTRAINT [FK_VaccineAdministration_CVXCode] FOREIGN KEY ([CVXCode]) REFERENCES [dbo].[VaccineCode] ([CVXCode]),
  CONSTRAINT [FK_VaccineAdministration_AdministeredByGUID] FOREIGN KEY ([AdministeredByGUID]) REFERENCES [dbo].[ProviderMaster] ([ProviderGUID])
);
CREATE INDEX [IX_VaccineAdministration_PatientGUID_AdministeredAt] ON [dbo].[VaccineAdministration] ([PatientGUID], [AdministeredAt]);
CREATE INDEX [IX_VaccineAdministration_AdministeredAt] ON [dbo].[VaccineAdministration] ([AdministeredAt]);
CREATE INDEX [IX_VaccineAdministration_CVXCode] ON [dbo].[VaccineAdministration] ([CVXCode]);
CREATE INDEX [IX_VaccineAdministration_AdministeredByGUID] ON [dbo].[VaccineAdministration] ([AdministeredByGUID]);
CREATE INDEX [IX_VaccineAdministration_ModifiedAt] ON [dbo].[VaccineAdministration] ([ModifiedAt]);
CREATE INDEX [IX_VaccineAdministration_LotNumber] ON [dbo].[VaccineAdministration] ([LotNumber]);

CREATE TABLE [dbo].[ProcedureHistory] (
  [ProcedureGUID] uniqueidentifier  NOT NULL DEFAULT (NEWID()),
  [PatientGUID]   uniqueidentifier  NOT NULL,
  [VisitGUID]     uniqueidentifier  NULL,
  [CPTCode]       varchar(10)       NULL,
  [SNOMEDCode]    varchar(20)       NULL,
  [ProcedureName] nvarchar(200)     NOT NULL,
  [StatusCode]    char(1)           NOT NULL,
  [StartedAt]     datetimeoffset(0) NOT NULL,
  [EndedAt]       datetimeoffset(0) NULL,
  [SurgeonGUID]   uniqueidentifier  NULL,
  [ModifiedAt]    datetime2(3)      NOT NULL,
  CONSTRAINT [PK_ProcedureHistory] PRIMARY KEY ([ProcedureGUID]),
  CONSTRAINT [FK_ProcedureHistory_PatientGUID] FOREIGN KEY ([PatientGUID]) REFERENCES [dbo].[PatientMaster] ([PatientGUID]),
  CONSTRAINT [FK_ProcedureHistory_VisitGUID] FOREIGN KEY ([VisitGUID]) REFERENCES [dbo].[PatientVisit] ([VisitGUID]),
  CONSTRAINT [FK_ProcedureHistory_SurgeonGUID] FOREIGN KEY ([SurgeonGUID]) REFERENCES [dbo].[ProviderMaster] ([ProviderGUID])
);
CREATE INDEX [IX_ProcedureHistory_PatientGUID_StartedAt] ON [dbo].[ProcedureHistory] ([PatientGUID], [StartedAt]);
CREATE INDEX [IX_ProcedureHistory_PatientGUID_CPTCode] ON [dbo].[ProcedureHistory] ([PatientGUID], [CPTCode]);
CREATE INDEX [IX_ProcedureHistory_CPTCode] ON [dbo].[ProcedureHistory] ([CPTCode]);
CREATE INDEX [IX_ProcedureHistory_SNOMEDCode] ON [dbo].[ProcedureHistory] ([SNOMEDCode]);
CREATE INDEX [IX_ProcedureHistory_StartedAt] ON [dbo].[ProcedureHistory] ([StartedAt]);
CREATE INDEX [IX_ProcedureHistory_EndedAt] ON [dbo].[ProcedureHistory] ([EndedAt]);
CREATE INDEX [IX_ProcedureHistory_VisitGUID] ON [dbo].[ProcedureHistory] ([VisitGUID]);
CREATE INDEX [IX_ProcedureHistory_SurgeonGUID] ON [dbo].[ProcedureHistory] ([SurgeonGUID]);
CREATE INDEX [IX_ProcedureHistory_ModifiedAt] ON [dbo].[ProcedureHistory] ([ModifiedAt]);
