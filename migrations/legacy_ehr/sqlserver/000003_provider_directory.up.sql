-- The EHR's provider directory: facilities, departments (the codes
-- PatientVisit.Department holds) and providers (ProviderKey is what
-- LabResult.OrderingProviderID holds). The old tables keep their columns:
-- specs join the directory through them. Keep parallel to the other
-- dialects' files. The default case-insensitive collation serves the string searches.
CREATE TABLE [dbo].[FacilityMaster] (
  [FacilityGUID] uniqueidentifier NOT NULL DEFAULT (NEWID()),
  [FacilityName] nvarchar(100) NOT NULL,
  [NPI]          char(10)     NULL,
  [Phone]        varchar(25)  NULL,
  [Address1]     nvarchar(100) NULL,
  [City]         nvarchar(60)  NULL,
  [StateCode]    char(2)      NULL,
  [Zip]          varchar(10)  NULL,
  [IsActive]     bit          NOT NULL DEFAULT 1,
  [ModifiedAt]   datetime2(3) NOT NULL,
  CONSTRAINT [PK_FacilityMaster] PRIMARY KEY ([FacilityGUID])
);
CREATE INDEX [IX_FacilityMaster_FacilityName] ON [dbo].[FacilityMaster] ([FacilityName]);

CREATE TABLE [dbo].[Department] (
  [Code]         varchar(10)  NOT NULL,
  [Name]         nvarchar(100) NOT NULL,
  [FacilityGUID] uniqueidentifier NULL,
  [Phone]        varchar(25)  NULL,
  [IsActive]     bit          NOT NULL DEFAULT 1,
  [ModifiedAt]   datetime2(3) NOT NULL,
  CONSTRAINT [PK_Department] PRIMARY KEY ([Code]),
  CONSTRAINT [FK_Department_FacilityMaster] FOREIGN KEY ([FacilityGUID]) REFERENCES [dbo].[FacilityMaster] ([FacilityGUID])
);
CREATE INDEX [IX_Department_Name]         ON [dbo].[Department] ([Name]);
CREATE INDEX [IX_Department_FacilityGUID] ON [dbo].[Department] ([FacilityGUID]);

CREATE TABLE [dbo].[ProviderMaster] (
  [ProviderGUID] uniqueidentifier NOT NULL DEFAULT (NEWID()),
  [ProviderKey]  varchar(20)  NOT NULL,
  [NPI]          char(10)     NOT NULL,
  [LastName]     nvarchar(60)  NOT NULL,
  [FirstName]    nvarchar(60)  NULL,
  [Credentials]  varchar(20)  NULL,
  [Phone]        varchar(25)  NULL,
  [IsActive]     bit          NOT NULL DEFAULT 1,
  [ModifiedAt]   datetime2(3) NOT NULL,
  CONSTRAINT [PK_ProviderMaster] PRIMARY KEY ([ProviderGUID]),
  CONSTRAINT [UQ_ProviderMaster_ProviderKey] UNIQUE ([ProviderKey])
);
CREATE INDEX [IX_ProviderMaster_LastName] ON [dbo].[ProviderMaster] ([LastName]);
CREATE INDEX [IX_ProviderMaster_NPI]      ON [dbo].[ProviderMaster] ([NPI]);
