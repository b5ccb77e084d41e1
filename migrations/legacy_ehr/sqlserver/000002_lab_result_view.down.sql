DROP VIEW [dbo].[vw_LabResultDetail];
