-- sqlite
SELECT t."PatientGUID", t."ModifiedAt", rc."CDCCode", rc."Description", ec."CDCCode", ec."Description", t."MRN", t."LastName", t."FirstName", t."MiddleName", t."Name Prefix", t."HomePhone", t."SexCode", t."DOB", t."DeathDate", t."Address1", t."City", t."StateCode", t."Zip", t."Latitude", t."Longitude" FROM "PatientMaster" t LEFT JOIN "RaceCode" rc ON rc."Code" = t."RaceCode" LEFT JOIN "EthnicityCode" ec ON ec."Code" = t."EthnicityCode" WHERE t."LastName" <= ?1 AND (t."LastName" < ?2 OR (t."LastName" = ?3 AND t."PatientGUID" < ?4)) ORDER BY t."LastName" DESC, t."PatientGUID" DESC LIMIT 21
-- args: Smith | Smith | Smith | f12c46c7-f1e3-510b-a297-05df5f8e184e

-- postgres
SELECT t."PatientGUID", t."ModifiedAt", rc."CDCCode", rc."Description", ec."CDCCode", ec."Description", t."MRN", t."LastName", t."FirstName", t."MiddleName", t."Name Prefix", t."HomePhone", t."SexCode", t."DOB", t."DeathDate", t."Address1", t."City", t."StateCode", t."Zip", t."Latitude", t."Longitude" FROM dbo."PatientMaster" t LEFT JOIN dbo."RaceCode" rc ON rc."Code" = t."RaceCode" LEFT JOIN dbo."EthnicityCode" ec ON ec."Code" = t."EthnicityCode" WHERE t."LastName" <= $1 AND (t."LastName" < $2 OR (t."LastName" = $3 AND t."PatientGUID" < $4)) ORDER BY t."LastName" DESC, t."PatientGUID" DESC LIMIT 21
-- args: Smith | Smith | Smith | f12c46c7-f1e3-510b-a297-05df5f8e184e

-- sqlserver
SELECT TOP (21) t.[PatientGUID], t.[ModifiedAt], rc.[CDCCode], rc.[Description], ec.[CDCCode], ec.[Description], t.[MRN], t.[LastName], t.[FirstName], t.[MiddleName], t.[Name Prefix], t.[HomePhone], t.[SexCode], t.[DOB], t.[DeathDate], t.[Address1], t.[City], t.[StateCode], t.[Zip], t.[Latitude], t.[Longitude] FROM dbo.[PatientMaster] t LEFT JOIN dbo.[RaceCode] rc ON rc.[Code] = t.[RaceCode] LEFT JOIN dbo.[EthnicityCode] ec ON ec.[Code] = t.[EthnicityCode] WHERE t.[LastName] <= @p1 AND (t.[LastName] < @p2 OR (t.[LastName] = @p3 AND t.[PatientGUID] < @p4)) ORDER BY t.[LastName] DESC, t.[PatientGUID] DESC
-- args: Smith | Smith | Smith | f12c46c7-f1e3-510b-a297-05df5f8e184e

-- mysql
SELECT t.`PatientGUID`, t.`ModifiedAt`, rc.`CDCCode`, rc.`Description`, ec.`CDCCode`, ec.`Description`, t.`MRN`, t.`LastName`, t.`FirstName`, t.`MiddleName`, t.`Name Prefix`, t.`HomePhone`, t.`SexCode`, t.`DOB`, t.`DeathDate`, t.`Address1`, t.`City`, t.`StateCode`, t.`Zip`, t.`Latitude`, t.`Longitude` FROM `PatientMaster` t LEFT JOIN `RaceCode` rc ON rc.`Code` = t.`RaceCode` LEFT JOIN `EthnicityCode` ec ON ec.`Code` = t.`EthnicityCode` WHERE t.`LastName` <= ? AND (t.`LastName` < ? OR (t.`LastName` = ? AND t.`PatientGUID` < ?)) ORDER BY t.`LastName` DESC, t.`PatientGUID` DESC LIMIT 21
-- args: Smith | Smith | Smith | f12c46c7-f1e3-510b-a297-05df5f8e184e

