-- sqlite
SELECT t."ProcedureGUID", t."ModifiedAt", t."StatusCode", t."CPTCode", t."SNOMEDCode", t."ProcedureName", t."PatientGUID", t."VisitGUID", t."StartedAt", t."EndedAt", t."SurgeonGUID" FROM "ProcedureHistory" t WHERE ((strftime('%Y-%m-%d %H:%M:%f', t."EndedAt") IS NULL AND strftime('%Y-%m-%d %H:%M:%f', t."StartedAt") IS NOT NULL) OR strftime('%Y-%m-%d %H:%M:%f', t."EndedAt") >= strftime('%Y-%m-%d %H:%M:%f', ?1)) AND (t."StatusCode" = ?2 OR t."StatusCode" = ?3) AND t."PatientGUID" = ?4 ORDER BY t."ProcedureGUID" LIMIT 21
-- args: 2024-01-01T05:00:00Z | C | I | f12c46c7-f1e3-510b-a297-05df5f8e184e

-- postgres
SELECT t."ProcedureGUID", t."ModifiedAt", t."StatusCode", t."CPTCode", t."SNOMEDCode", t."ProcedureName", t."PatientGUID", t."VisitGUID", t."StartedAt", t."EndedAt", t."SurgeonGUID" FROM dbo."ProcedureHistory" t WHERE ((t."EndedAt" IS NULL AND t."StartedAt" IS NOT NULL) OR t."EndedAt" >= $1) AND (t."StatusCode" = $2 OR t."StatusCode" = $3) AND t."PatientGUID" = $4 ORDER BY t."ProcedureGUID" LIMIT 21
-- args: 2024-01-01 05:00:00 +0000 UTC | C | I | f12c46c7-f1e3-510b-a297-05df5f8e184e

-- sqlserver
SELECT TOP (21) t.[ProcedureGUID], t.[ModifiedAt], t.[StatusCode], t.[CPTCode], t.[SNOMEDCode], t.[ProcedureName], t.[PatientGUID], t.[VisitGUID], t.[StartedAt], t.[EndedAt], t.[SurgeonGUID] FROM dbo.[ProcedureHistory] t WHERE ((t.[EndedAt] IS NULL AND t.[StartedAt] IS NOT NULL) OR t.[EndedAt] >= @p1) AND (t.[StatusCode] = @p2 OR t.[StatusCode] = @p3) AND t.[PatientGUID] = @p4 ORDER BY t.[ProcedureGUID]
-- args: 2024-01-01 05:00:00 +0000 UTC | C | I | f12c46c7-f1e3-510b-a297-05df5f8e184e

-- mysql
SELECT t.`ProcedureGUID`, t.`ModifiedAt`, t.`StatusCode`, t.`CPTCode`, t.`SNOMEDCode`, t.`ProcedureName`, t.`PatientGUID`, t.`VisitGUID`, t.`StartedAt`, t.`EndedAt`, t.`SurgeonGUID` FROM `ProcedureHistory` t WHERE ((t.`EndedAt` IS NULL AND t.`StartedAt` IS NOT NULL) OR t.`EndedAt` >= ?) AND (t.`StatusCode` = ? OR t.`StatusCode` = ?) AND t.`PatientGUID` = ? ORDER BY t.`ProcedureGUID` LIMIT 21
-- args: 2024-01-01 05:00:00 +0000 UTC | C | I | f12c46c7-f1e3-510b-a297-05df5f8e184e

