-- sqlite
SELECT t."AdminGUID", t."ModifiedAt", t."AdminStatus", t."RefusalReason", vx."CVXCode", vx."VaccineName", t."PatientGUID", t."VisitGUID", t."AdministeredAt", t."PrimarySource", t."LotNumber", t."DoseML", t."AdministeredByGUID", t."CVXCode" FROM "VaccineAdministration" t LEFT JOIN "VaccineCode" vx ON vx."CVXCode" = t."CVXCode" WHERE t."LotNumber" LIKE ?1 ESCAPE '\' AND t."CVXCode" = ?2 ORDER BY strftime('%Y-%m-%d %H:%M:%f', t."AdministeredAt") DESC NULLS LAST, t."AdminGUID" DESC LIMIT 21
-- args: lot0% | 140

-- postgres
SELECT t."AdminGUID", t."ModifiedAt", t."AdminStatus", t."RefusalReason", vx."CVXCode", vx."VaccineName", t."PatientGUID", t."VisitGUID", t."AdministeredAt", t."PrimarySource", t."LotNumber", t."DoseML", t."AdministeredByGUID", t."CVXCode" FROM dbo."VaccineAdministration" t LEFT JOIN dbo."VaccineCode" vx ON vx."CVXCode" = t."CVXCode" WHERE lower(t."LotNumber") LIKE $1 ESCAPE '\' AND t."CVXCode" = $2 ORDER BY t."AdministeredAt" DESC NULLS LAST, t."AdminGUID" DESC LIMIT 21
-- args: lot0% | 140

-- sqlserver
SELECT TOP (21) t.[AdminGUID], t.[ModifiedAt], t.[AdminStatus], t.[RefusalReason], vx.[CVXCode], vx.[VaccineName], t.[PatientGUID], t.[VisitGUID], t.[AdministeredAt], t.[PrimarySource], t.[LotNumber], t.[DoseML], t.[AdministeredByGUID], t.[CVXCode] FROM dbo.[VaccineAdministration] t LEFT JOIN dbo.[VaccineCode] vx ON vx.[CVXCode] = t.[CVXCode] WHERE t.[LotNumber] LIKE @p1 ESCAPE '\' AND t.[CVXCode] = @p2 ORDER BY CASE WHEN t.[AdministeredAt] IS NULL THEN 1 ELSE 0 END, t.[AdministeredAt] DESC, t.[AdminGUID] DESC
-- args: lot0% | 140

-- mysql
SELECT t.`AdminGUID`, t.`ModifiedAt`, t.`AdminStatus`, t.`RefusalReason`, vx.`CVXCode`, vx.`VaccineName`, t.`PatientGUID`, t.`VisitGUID`, t.`AdministeredAt`, t.`PrimarySource`, t.`LotNumber`, t.`DoseML`, t.`AdministeredByGUID`, t.`CVXCode` FROM `VaccineAdministration` t LEFT JOIN `VaccineCode` vx ON vx.`CVXCode` = t.`CVXCode` WHERE t.`LotNumber` LIKE ? ESCAPE CHAR(92) AND t.`CVXCode` = ? ORDER BY CASE WHEN t.`AdministeredAt` IS NULL THEN 1 ELSE 0 END, t.`AdministeredAt` DESC, t.`AdminGUID` DESC LIMIT 21
-- args: lot0% | 140

