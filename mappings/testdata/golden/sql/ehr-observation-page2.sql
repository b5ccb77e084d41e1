-- sqlite
SELECT t."ResultGUID", t."ModifiedAt", t."ResultStatus", t."LOINC", t."TestName", t."TestCode", t."PatientGUID", t."VisitGUID", t."CollectedAt", prov."ProviderGUID", t."OrderingProviderID", t."NumericValue", t."Units", t."TextValue", t."AbnormalFlag", t."ReferenceRange" FROM "vw_LabResultDetail" t LEFT JOIN "ProviderMaster" prov ON prov."ProviderKey" = t."OrderingProviderID" WHERE (strftime('%Y-%m-%d %H:%M:%f', t."CollectedAt") < strftime('%Y-%m-%d %H:%M:%f', ?1) OR strftime('%Y-%m-%d %H:%M:%f', t."CollectedAt") IS NULL OR (strftime('%Y-%m-%d %H:%M:%f', t."CollectedAt") = strftime('%Y-%m-%d %H:%M:%f', ?2) AND t."ResultGUID" < ?3)) ORDER BY strftime('%Y-%m-%d %H:%M:%f', t."CollectedAt") DESC NULLS LAST, t."ResultGUID" DESC LIMIT 21
-- args: 2024-03-01T20:55:06Z | 2024-03-01T20:55:06Z | fc32bf5a-5d4c-5ffb-9ac2-62ab87941b73

-- postgres
SELECT t."ResultGUID", t."ModifiedAt", t."ResultStatus", t."LOINC", t."TestName", t."TestCode", t."PatientGUID", t."VisitGUID", t."CollectedAt", prov."ProviderGUID", t."OrderingProviderID", t."NumericValue", t."Units", t."TextValue", t."AbnormalFlag", t."ReferenceRange" FROM dbo."vw_LabResultDetail" t LEFT JOIN dbo."ProviderMaster" prov ON prov."ProviderKey" = t."OrderingProviderID" WHERE (t."CollectedAt" < $1 OR t."CollectedAt" IS NULL OR (t."CollectedAt" = $2 AND t."ResultGUID" < $3)) ORDER BY t."CollectedAt" DESC NULLS LAST, t."ResultGUID" DESC LIMIT 21
-- args: 2024-03-01 20:55:06 +0000 UTC | 2024-03-01 20:55:06 +0000 UTC | fc32bf5a-5d4c-5ffb-9ac2-62ab87941b73

-- sqlserver
SELECT TOP (21) t.[ResultGUID], t.[ModifiedAt], t.[ResultStatus], t.[LOINC], t.[TestName], t.[TestCode], t.[PatientGUID], t.[VisitGUID], t.[CollectedAt], prov.[ProviderGUID], t.[OrderingProviderID], t.[NumericValue], t.[Units], t.[TextValue], t.[AbnormalFlag], t.[ReferenceRange] FROM dbo.[vw_LabResultDetail] t LEFT JOIN dbo.[ProviderMaster] prov ON prov.[ProviderKey] = t.[OrderingProviderID] WHERE (t.[CollectedAt] < @p1 OR t.[CollectedAt] IS NULL OR (t.[CollectedAt] = @p2 AND t.[ResultGUID] < @p3)) ORDER BY CASE WHEN t.[CollectedAt] IS NULL THEN 1 ELSE 0 END, t.[CollectedAt] DESC, t.[ResultGUID] DESC
-- args: 2024-03-01 20:55:06 +0000 UTC | 2024-03-01 20:55:06 +0000 UTC | fc32bf5a-5d4c-5ffb-9ac2-62ab87941b73

-- mysql
SELECT t.`ResultGUID`, t.`ModifiedAt`, t.`ResultStatus`, t.`LOINC`, t.`TestName`, t.`TestCode`, t.`PatientGUID`, t.`VisitGUID`, t.`CollectedAt`, prov.`ProviderGUID`, t.`OrderingProviderID`, t.`NumericValue`, t.`Units`, t.`TextValue`, t.`AbnormalFlag`, t.`ReferenceRange` FROM `vw_LabResultDetail` t LEFT JOIN `ProviderMaster` prov ON prov.`ProviderKey` = t.`OrderingProviderID` WHERE (t.`CollectedAt` < ? OR t.`CollectedAt` IS NULL OR (t.`CollectedAt` = ? AND t.`ResultGUID` < ?)) ORDER BY CASE WHEN t.`CollectedAt` IS NULL THEN 1 ELSE 0 END, t.`CollectedAt` DESC, t.`ResultGUID` DESC LIMIT 21
-- args: 2024-03-01 20:55:06 +0000 UTC | 2024-03-01 20:55:06 +0000 UTC | fc32bf5a-5d4c-5ffb-9ac2-62ab87941b73

