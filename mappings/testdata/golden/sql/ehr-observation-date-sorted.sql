-- sqlite
SELECT t."ResultGUID", t."ModifiedAt", t."ResultStatus", t."LOINC", t."TestName", t."TestCode", t."PatientGUID", t."VisitGUID", t."CollectedAt", prov."ProviderGUID", t."OrderingProviderID", t."NumericValue", t."Units", t."TextValue", t."AbnormalFlag", t."ReferenceRange" FROM "vw_LabResultDetail" t LEFT JOIN "ProviderMaster" prov ON prov."ProviderKey" = t."OrderingProviderID" WHERE strftime('%Y-%m-%d %H:%M:%f', t."CollectedAt") >= strftime('%Y-%m-%d %H:%M:%f', ?1) AND t."PatientGUID" = ?2 ORDER BY strftime('%Y-%m-%d %H:%M:%f', t."CollectedAt") DESC NULLS LAST, t."ResultGUID" DESC LIMIT 21
-- args: 2024-03-01T15:00:00Z | f12c46c7-f1e3-510b-a297-05df5f8e184e

-- postgres
SELECT t."ResultGUID", t."ModifiedAt", t."ResultStatus", t."LOINC", t."TestName", t."TestCode", t."PatientGUID", t."VisitGUID", t."CollectedAt", prov."ProviderGUID", t."OrderingProviderID", t."NumericValue", t."Units", t."TextValue", t."AbnormalFlag", t."ReferenceRange" FROM dbo."vw_LabResultDetail" t LEFT JOIN dbo."ProviderMaster" prov ON prov."ProviderKey" = t."OrderingProviderID" WHERE t."CollectedAt" >= $1 AND t."PatientGUID" = $2 ORDER BY t."CollectedAt" DESC NULLS LAST, t."ResultGUID" DESC LIMIT 21
-- args: 2024-03-01 15:00:00 +0000 UTC | f12c46c7-f1e3-510b-a297-05df5f8e184e

-- sqlserver
SELECT TOP (21) t.[ResultGUID], t.[ModifiedAt], t.[ResultStatus], t.[LOINC], t.[TestName], t.[TestCode], t.[PatientGUID], t.[VisitGUID], t.[CollectedAt], prov.[ProviderGUID], t.[OrderingProviderID], t.[NumericValue], t.[Units], t.[TextValue], t.[AbnormalFlag], t.[ReferenceRange] FROM dbo.[vw_LabResultDetail] t LEFT JOIN dbo.[ProviderMaster] prov ON prov.[ProviderKey] = t.[OrderingProviderID] WHERE t.[CollectedAt] >= @p1 AND t.[PatientGUID] = @p2 ORDER BY CASE WHEN t.[CollectedAt] IS NULL THEN 1 ELSE 0 END, t.[CollectedAt] DESC, t.[ResultGUID] DESC
-- args: 2024-03-01 15:00:00 +0000 UTC | f12c46c7-f1e3-510b-a297-05df5f8e184e

-- mysql
SELECT t.`ResultGUID`, t.`ModifiedAt`, t.`ResultStatus`, t.`LOINC`, t.`TestName`, t.`TestCode`, t.`PatientGUID`, t.`VisitGUID`, t.`CollectedAt`, prov.`ProviderGUID`, t.`OrderingProviderID`, t.`NumericValue`, t.`Units`, t.`TextValue`, t.`AbnormalFlag`, t.`ReferenceRange` FROM `vw_LabResultDetail` t LEFT JOIN `ProviderMaster` prov ON prov.`ProviderKey` = t.`OrderingProviderID` WHERE t.`CollectedAt` >= ? AND t.`PatientGUID` = ? ORDER BY CASE WHEN t.`CollectedAt` IS NULL THEN 1 ELSE 0 END, t.`CollectedAt` DESC, t.`ResultGUID` DESC LIMIT 21
-- args: 2024-03-01 15:00:00 +0000 UTC | f12c46c7-f1e3-510b-a297-05df5f8e184e

