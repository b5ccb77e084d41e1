DROP TABLE [dbo].[LabResult];
DROP TABLE [dbo].[PatientVisit];
DROP TABLE [dbo].[PatientMaster];
DROP TABLE [dbo].[LabTest];
DROP TABLE [dbo].[VisitType];
DROP TABLE [dbo].[EthnicityCode];
DROP TABLE [dbo].[RaceCode];
