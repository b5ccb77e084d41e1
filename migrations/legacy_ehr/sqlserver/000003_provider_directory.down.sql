DROP TABLE [dbo].[ProviderMaster];
DROP TABLE [dbo].[Department];
DROP TABLE [dbo].[FacilityMaster];
