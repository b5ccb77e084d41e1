-- Its own migration: golang-migrate sends a file as one batch, and
-- CREATE VIEW must be the only statement of its batch in T-SQL.
CREATE VIEW [dbo].[vw_LabResultDetail] AS
SELECT r.[ResultGUID], r.[PatientGUID], r.[VisitGUID], r.[TestCode],
       t.[LOINC], t.[Display] AS [TestName],
       r.[NumericValue], r.[TextValue], COALESCE(r.[Units], t.[Unit]) AS [Units],
       r.[ReferenceRange], r.[AbnormalFlag], r.[ResultStatus],
       r.[CollectedAt], r.[OrderingProviderID], r.[ModifiedAt]
FROM [dbo].[LabResult] AS r
JOIN [dbo].[LabTest] AS t ON t.[LocalCode] = r.[TestCode];
