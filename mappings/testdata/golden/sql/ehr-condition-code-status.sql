-- sqlite
SELECT t."ProblemGUID", t."ModifiedAt", t."ProblemStatus", t."VerificationCode", t."ListType", dx."SNOMEDCT", dx."Description", dx."ICD10CM", t."DiagnosisCode", t."PatientGUID", t."VisitGUID", t."OnsetDate", t."ResolvedDate", t."RecordedAt", t."RecordedByGUID" FROM "ProblemList" t LEFT JOIN "DiagnosisCode" dx ON dx."Code" = t."DiagnosisCode" WHERE t."ListType" = ?1 AND (t."ProblemStatus" = ?2 OR t."ProblemStatus" = ?3) AND dx."SNOMEDCT" = ?4 AND t."PatientGUID" = ?5 ORDER BY t."ProblemGUID" LIMIT 21
-- args: P | Active | Resolved | 44054006 | f12c46c7-f1e3-510b-a297-05df5f8e184e

-- postgres
SELECT t."ProblemGUID", t."ModifiedAt", t."ProblemStatus", t."VerificationCode", t."ListType", dx."SNOMEDCT", dx."Description", dx."ICD10CM", t."DiagnosisCode", t."PatientGUID", t."VisitGUID", t."OnsetDate", t."ResolvedDate", t."RecordedAt", t."RecordedByGUID" FROM dbo."ProblemList" t LEFT JOIN dbo."DiagnosisCode" dx ON dx."Code" = t."DiagnosisCode" WHERE t."ListType" = $1 AND (t."ProblemStatus" = $2 OR t."ProblemStatus" = $3) AND dx."SNOMEDCT" = $4 AND t."PatientGUID" = $5 ORDER BY t."ProblemGUID" LIMIT 21
-- args: P | Active | Resolved | 44054006 | f12c46c7-f1e3-510b-a297-05df5f8e184e

-- sqlserver
SELECT TOP (21) t.[ProblemGUID], t.[ModifiedAt], t.[ProblemStatus], t.[VerificationCode], t.[ListType], dx.[SNOMEDCT], dx.[Description], dx.[ICD10CM], t.[DiagnosisCode], t.[PatientGUID], t.[VisitGUID], t.[OnsetDate], t.[ResolvedDate], t.[RecordedAt], t.[RecordedByGUID] FROM dbo.[ProblemList] t LEFT JOIN dbo.[DiagnosisCode] dx ON dx.[Code] = t.[DiagnosisCode] WHERE t.[ListType] = @p1 AND (t.[ProblemStatus] = @p2 OR t.[ProblemStatus] = @p3) AND dx.[SNOMEDCT] = @p4 AND t.[PatientGUID] = @p5 ORDER BY t.[ProblemGUID]
-- args: P | Active | Resolved | 44054006 | f12c46c7-f1e3-510b-a297-05df5f8e184e

-- mysql
SELECT t.`ProblemGUID`, t.`ModifiedAt`, t.`ProblemStatus`, t.`VerificationCode`, t.`ListType`, dx.`SNOMEDCT`, dx.`Description`, dx.`ICD10CM`, t.`DiagnosisCode`, t.`PatientGUID`, t.`VisitGUID`, t.`OnsetDate`, t.`ResolvedDate`, t.`RecordedAt`, t.`RecordedByGUID` FROM `ProblemList` t LEFT JOIN `DiagnosisCode` dx ON dx.`Code` = t.`DiagnosisCode` WHERE t.`ListType` = ? AND (t.`ProblemStatus` = ? OR t.`ProblemStatus` = ?) AND dx.`SNOMEDCT` = ? AND t.`PatientGUID` = ? ORDER BY t.`ProblemGUID` LIMIT 21
-- args: P | Active | Resolved | 44054006 | f12c46c7-f1e3-510b-a297-05df5f8e184e

