-- sqlite
SELECT t."VisitGUID", t."ModifiedAt", t."VisitNumber", t."StatusCode", t."VisitTypeCode", vt."Description", t."PatientGUID", t."AdmitDateTime", t."DischargeDateTime", t."Department", dep."FacilityGUID" FROM "PatientVisit" t LEFT JOIN "VisitType" vt ON vt."Code" = t."VisitTypeCode" LEFT JOIN "Department" dep ON dep."Code" = t."Department" WHERE ((strftime('%Y-%m-%d %H:%M:%f', t."AdmitDateTime") IS NULL AND strftime('%Y-%m-%d %H:%M:%f', t."DischargeDateTime") IS NOT NULL) OR strftime('%Y-%m-%d %H:%M:%f', t."AdmitDateTime") < strftime('%Y-%m-%d %H:%M:%f', ?1)) AND t."PatientGUID" = ?2 ORDER BY t."VisitGUID" LIMIT 21
-- args: 2024-06-02T04:00:00Z | f12c46c7-f1e3-510b-a297-05df5f8e184e

-- postgres
SELECT t."VisitGUID", t."ModifiedAt", t."VisitNumber", t."StatusCode", t."VisitTypeCode", vt."Description", t."PatientGUID", t."AdmitDateTime", t."DischargeDateTime", t."Department", dep."FacilityGUID" FROM dbo."PatientVisit" t LEFT JOIN dbo."VisitType" vt ON vt."Code" = t."VisitTypeCode" LEFT JOIN dbo."Department" dep ON dep."Code" = t."Department" WHERE ((t."AdmitDateTime" IS NULL AND t."DischargeDateTime" IS NOT NULL) OR t."AdmitDateTime" < $1) AND t."PatientGUID" = $2 ORDER BY t."VisitGUID" LIMIT 21
-- args: 2024-06-02 04:00:00 +0000 UTC | f12c46c7-f1e3-510b-a297-05df5f8e184e

-- sqlserver
SELECT TOP (21) t.[VisitGUID], t.[ModifiedAt], t.[VisitNumber], t.[StatusCode], t.[VisitTypeCode], vt.[Description], t.[PatientGUID], t.[AdmitDateTime], t.[DischargeDateTime], t.[Department], dep.[FacilityGUID] FROM dbo.[PatientVisit] t LEFT JOIN dbo.[VisitType] vt ON vt.[Code] = t.[VisitTypeCode] LEFT JOIN dbo.[Department] dep ON dep.[Code] = t.[Department] WHERE ((t.[AdmitDateTime] IS NULL AND t.[DischargeDateTime] IS NOT NULL) OR t.[AdmitDateTime] < @p1) AND t.[PatientGUID] = @p2 ORDER BY t.[VisitGUID]
-- args: 2024-06-02 04:00:00 +0000 UTC | f12c46c7-f1e3-510b-a297-05df5f8e184e

-- mysql
SELECT t.`VisitGUID`, t.`ModifiedAt`, t.`VisitNumber`, t.`StatusCode`, t.`VisitTypeCode`, vt.`Description`, t.`PatientGUID`, t.`AdmitDateTime`, t.`DischargeDateTime`, t.`Department`, dep.`FacilityGUID` FROM `PatientVisit` t LEFT JOIN `VisitType` vt ON vt.`Code` = t.`VisitTypeCode` LEFT JOIN `Department` dep ON dep.`Code` = t.`Department` WHERE ((t.`AdmitDateTime` IS NULL AND t.`DischargeDateTime` IS NOT NULL) OR t.`AdmitDateTime` < ?) AND t.`PatientGUID` = ? ORDER BY t.`VisitGUID` LIMIT 21
-- args: 2024-06-02 04:00:00 +0000 UTC | f12c46c7-f1e3-510b-a297-05df5f8e184e

