-- Second demo legacy schema, in the style of a SQL Server EHR database that
-- nobody here designed: PascalCase names under dbo (one with a space),
-- uniqueidentifier keys, datetimeoffset and datetime2, money/decimal,
-- nullable columns and code lookup tables. Keep it parallel to the
-- PostgreSQL and SQLite files; README.md next to this folder lists what is
-- deliberately awkward.
-- The default case-insensitive collation serves the string searches.
CREATE TABLE [dbo].[RaceCode] (
  [Code]        nvarchar(10)  NOT NULL,
  [Description] nvarchar(100) NOT NULL,
  [CDCCode]     varchar(10)   NULL,
  [IsActive]    bit           NOT NULL DEFAULT (1),
  CONSTRAINT [PK_RaceCode] PRIMARY KEY ([Code])
);

CREATE TABLE [dbo].[EthnicityCode] (
  [Code]        nvarchar(10)  NOT NULL,
  [Description] nvarchar(100) NOT NULL,
  [CDCCode]     varchar(10)   NULL,
  [IsActive]    bit           NOT NULL DEFAULT (1),
  CONSTRAINT [PK_EthnicityCode] PRIMARY KEY ([Code])
);

CREATE TABLE [dbo].[VisitType] (
  [Code]        nvarchar(10)  NOT NULL,
  [Description] nvarchar(100) NOT NULL,
  [IsInpatient] bit           NOT NULL DEFAULT (0),
  CONSTRAINT [PK_VisitType] PRIMARY KEY ([Code])
);

CREATE TABLE [dbo].[LabTest] (
  [LocalCode] nvarchar(20)  NOT NULL,
  [LOINC]     varchar(10)   NULL,
  [Display]   nvarchar(200) NOT NULL,
  [Unit]      nvarchar(20)  NULL,
  [IsActive]  bit           NOT NULL DEFAULT (1),
  CONSTRAINT [PK_LabTest] PRIMARY KEY ([LocalCode])
);

CREATE TABLE [dbo].[PatientMaster] (
  [PatientGUID]   uniqueidentifier  NOT NULL DEFAULT (NEWID()),
  [MRN]           nvarchar(20)      NOT NULL,
  [SiteCode]      varchar(10)       NOT NULL,
  [LastName]      nvarchar(60)      NOT NULL,
  [FirstName]     nvarchar(60)      NULL,
  [MiddleName]    nvarchar(60)      NULL,
  [Name Prefix]   nvarchar(20)      NULL,
  [DOB]           date              NULL,
  [SexCode]       char(1)           NULL,
  [RaceCode]      nvarchar(10)      NULL,
  [EthnicityCode] nvarchar(10)      NULL,
  [Address1]      nvarchar(100)     NULL,
  [City]          nvarchar(60)      NULL,
  [StateCode]     char(2)           NULL,
  [Zip]           varchar(10)       NULL,
  [Latitude]      decimal(9,6)      NULL,
  [Longitude]     decimal(9,6)      NULL,
  [HomePhone]     varchar(25)       NULL,
  [DeathDate]     datetime2(0)      NULL,
  [SSN]           char(11)          NULL,
  [IsActive]      bit               NOT NULL DEFAULT (1),
  [ModifiedAt]    datetimeoffset(7) NULL,
  [CreatedAt]     datetime2(7)      NOT NULL DEFAULT (SYSDATETIME()),
  CONSTRAINT [PK_PatientMaster] PRIMARY KEY ([PatientGUID]),
  CONSTRAINT [UQ_PatientMaster_MRN] UNIQUE ([MRN]),
  CONSTRAINT [FK_PatientMaster_RaceCode] FOREIGN KEY ([RaceCode]) REFERENCES [dbo].[RaceCode] ([Code]),
  CONSTRAINT [FK_PatientMaster_EthnicityCode] FOREIGN KEY ([EthnicityCode]) REFERENCES [dbo].[EthnicityCode] ([Code])
);
CREATE INDEX [IX_PatientMaster_LastName]   ON [dbo].[PatientMaster] ([LastName]);
CREATE INDEX [IX_PatientMaster_DOB]        ON [dbo].[PatientMaster] ([DOB]);
CREATE INDEX [IX_PatientMaster_ModifiedAt] ON [dbo].[PatientMaster] ([ModifiedAt]);

CREATE TABLE [dbo].[PatientVisit] (
  [VisitGUID]         uniqueidentifier  NOT NULL DEFAULT (NEWID()),
  [PatientGUID]       uniqueidentifier  NOT NULL,
  [VisitNumber]       varchar(20)       NOT NULL,
  [VisitTypeCode]     nvarchar(10)      NOT NULL,
  [StatusCode]        char(1)           NOT NULL,
  [AdmitDateTime]     datetimeoffset(0) NOT NULL,
  [DischargeDateTime] datetimeoffset(0) NULL,
  [Department]        nvarchar(50)      NULL,
  [ModifiedAt]        datetime2(3)      NOT NULL,
  CONSTRAINT [PK_PatientVisit] PRIMARY KEY ([VisitGUID]),
  CONSTRAINT [UQ_PatientVisit_VisitNumber] UNIQUE ([VisitNumber]),
  CONSTRAINT [FK_PatientVisit_PatientMaster] FOREIGN KEY ([PatientGUID]) REFERENCES [dbo].[PatientMaster] ([PatientGUID]),
  CONSTRAINT [FK_PatientVisit_VisitType] FOREIGN KEY ([VisitTypeCode]) REFERENCES [dbo].[VisitType] ([Code])
);
CREATE INDEX [IX_PatientVisit_PatientGUID_AdmitDateTime] ON [dbo].[PatientVisit] ([PatientGUID], [AdmitDateTime]);
CREATE INDEX [IX_PatientVisit_AdmitDateTime]             ON [dbo].[PatientVisit] ([AdmitDateTime]);
CREATE INDEX [IX_PatientVisit_ModifiedAt]                ON [dbo].[PatientVisit] ([ModifiedAt]);

CREATE TABLE [dbo].[LabResult] (
  [ResultGUID]         uniqueidentifier  NOT NULL DEFAULT (NEWID()),
  [PatientGUID]        uniqueidentifier  NOT NULL,
  [VisitGUID]          uniqueidentifier  NULL,
  [TestCode]           nvarchar(20)      NOT NULL,
  [NumericValue]       decimal(12,4)     NULL,
  [TextValue]          nvarchar(100)     NULL,
  [Units]              nvarchar(20)      NULL,
  [ReferenceRange]     nvarchar(40)      NULL,
  [AbnormalFlag]       char(1)           NULL,
  [ResultStatus]       char(1)           NOT NULL,
  [CollectedAt]        datetimeoffset(0) NOT NULL,
  [Charge]             money             NULL,
  [OrderingProviderID] nvarchar(20)      NULL,
  [ModifiedAt]         datetimeoffset(7) NOT NULL,
  CONSTRAINT [PK_LabResult] PRIMARY KEY ([ResultGUID]),
  CONSTRAINT [FK_LabResult_PatientMaster] FOREIGN KEY ([PatientGUID]) REFERENCES [dbo].[PatientMaster] ([PatientGUID]),
  CONSTRAINT [FK_LabResult_PatientVisit] FOREIGN KEY ([VisitGUID]) REFERENCES [dbo].[PatientVisit] ([VisitGUID]),
  CONSTRAINT [FK_LabResult_LabTest] FOREIGN KEY ([TestCode]) REFERENCES [dbo].[LabTest] ([LocalCode])
);
CREATE INDEX [IX_LabResult_CollectedAt]             ON [dbo].[LabResult] ([CollectedAt]);
CREATE INDEX [IX_LabResult_PatientGUID_CollectedAt] ON [dbo].[LabResult] ([PatientGUID], [CollectedAt]);
CREATE INDEX [IX_LabResult_PatientGUID_TestCode]    ON [dbo].[LabResult] ([PatientGUID], [TestCode], [CollectedAt]);
CREATE INDEX [IX_LabResult_VisitGUID]               ON [dbo].[LabResult] ([VisitGUID]);
CREATE INDEX [IX_LabResult_ModifiedAt]              ON [dbo].[LabResult] ([ModifiedAt]);
