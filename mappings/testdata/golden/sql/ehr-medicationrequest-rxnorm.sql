-- sqlite
SELECT t."OrderGUID", t."ModifiedAt", t."OrderStatus", t."OrderClass", fm."RxNorm", fm."DrugName", t."DrugCode", t."PatientGUID", t."VisitGUID", t."OrderedAt", t."PrescriberGUID", t."Sig", t."DispenseQty" FROM "MedicationOrder" t LEFT JOIN "Formulary" fm ON fm."DrugCode" = t."DrugCode" WHERE strftime('%Y-%m-%d %H:%M:%f', t."OrderedAt") >= strftime('%Y-%m-%d %H:%M:%f', ?1) AND fm."RxNorm" = ?2 AND t."OrderStatus" = ?3 ORDER BY t."OrderGUID" LIMIT 21
-- args: 2024-01-01T05:00:00Z | 314076 | Discontinued

-- postgres
SELECT t."OrderGUID", t."ModifiedAt", t."OrderStatus", t."OrderClass", fm."RxNorm", fm."DrugName", t."DrugCode", t."PatientGUID", t."VisitGUID", t."OrderedAt", t."PrescriberGUID", t."Sig", t."DispenseQty" FROM dbo."MedicationOrder" t LEFT JOIN dbo."Formulary" fm ON fm."DrugCode" = t."DrugCode" WHERE t."OrderedAt" >= $1 AND fm."RxNorm" = $2 AND t."OrderStatus" = $3 ORDER BY t."OrderGUID" LIMIT 21
-- args: 2024-01-01 05:00:00 +0000 UTC | 314076 | Discontinued

-- sqlserver
SELECT TOP (21) t.[OrderGUID], t.[ModifiedAt], t.[OrderStatus], t.[OrderClass], fm.[RxNorm], fm.[DrugName], t.[DrugCode], t.[PatientGUID], t.[VisitGUID], t.[OrderedAt], t.[PrescriberGUID], t.[Sig], t.[DispenseQty] FROM dbo.[MedicationOrder] t LEFT JOIN dbo.[Formulary] fm ON fm.[DrugCode] = t.[DrugCode] WHERE t.[OrderedAt] >= @p1 AND fm.[RxNorm] = @p2 AND t.[OrderStatus] = @p3 ORDER BY t.[OrderGUID]
-- args: 2024-01-01 05:00:00 +0000 UTC | 314076 | Discontinued

-- mysql
SELECT t.`OrderGUID`, t.`ModifiedAt`, t.`OrderStatus`, t.`OrderClass`, fm.`RxNorm`, fm.`DrugName`, t.`DrugCode`, t.`PatientGUID`, t.`VisitGUID`, t.`OrderedAt`, t.`PrescriberGUID`, t.`Sig`, t.`DispenseQty` FROM `MedicationOrder` t LEFT JOIN `Formulary` fm ON fm.`DrugCode` = t.`DrugCode` WHERE t.`OrderedAt` >= ? AND fm.`RxNorm` = ? AND t.`OrderStatus` = ? ORDER BY t.`OrderGUID` LIMIT 21
-- args: 2024-01-01 05:00:00 +0000 UTC | 314076 | Discontinued

