-- sqlite
SELECT t."PatientGUID", t."ModifiedAt", rc."CDCCode", rc."Description", ec."CDCCode", ec."Description", t."MRN", t."LastName", t."FirstName", t."MiddleName", t."Name Prefix", t."HomePhone", t."SexCode", t."DOB", t."DeathDate", t."Address1", t."City", t."StateCode", t."Zip", t."Latitude", t."Longitude" FROM "PatientMaster" t LEFT JOIN "RaceCode" rc ON rc."Code" = t."RaceCode" LEFT JOIN "EthnicityCode" ec ON ec."Code" = t."EthnicityCode" WHERE t."DeathDate" IS NOT NULL AND (t."LastName" LIKE ?1 ESCAPE '\' OR t."FirstName" LIKE ?2 ESCAPE '\' OR t."MiddleName" LIKE ?3 ESCAPE '\') ORDER BY t."LastName", t."PatientGUID" LIMIT 21
-- args: o% | o% | o%

-- postgres
SELECT t."PatientGUID", t."ModifiedAt", rc."CDCCode", rc."Description", ec."CDCCode", ec."Description", t."MRN", t."LastName", t."FirstName", t."MiddleName", t."Name Prefix", t."HomePhone", t."SexCode", t."DOB", t."DeathDate", t."Address1", t."City", t."StateCode", t."Zip", t."Latitude", t."Longitude" FROM dbo."PatientMaster" t LEFT JOIN dbo."RaceCode" rc ON rc."Code" = t."RaceCode" LEFT JOIN dbo."EthnicityCode" ec ON ec."Code" = t."EthnicityCode" WHERE t."DeathDate" IS NOT NULL AND (lower(t."LastName") LIKE $1 ESCAPE '\' OR lower(t."FirstName") LIKE $2 ESCAPE '\' OR lower(t."MiddleName") LIKE $3 ESCAPE '\') ORDER BY t."LastName", t."PatientGUID" LIMIT 21
-- args: o% | o% | o%

-- sqlserver
SELECT TOP (21) t.[PatientGUID], t.[ModifiedAt], rc.[CDCCode], rc.[Description], ec.[CDCCode], ec.[Description], t.[MRN], t.[LastName], t.[FirstName], t.[MiddleName], t.[Name Prefix], t.[HomePhone], t.[SexCode], t.[DOB], t.[DeathDate], t.[Address1], t.[City], t.[StateCode], t.[Zip], t.[Latitude], t.[Longitude] FROM dbo.[PatientMaster] t LEFT JOIN dbo.[RaceCode] rc ON rc.[Code] = t.[RaceCode] LEFT JOIN dbo.[EthnicityCode] ec ON ec.[Code] = t.[EthnicityCode] WHERE t.[DeathDate] IS NOT NULL AND (t.[LastName] LIKE @p1 ESCAPE '\' OR t.[FirstName] LIKE @p2 ESCAPE '\' OR t.[MiddleName] LIKE @p3 ESCAPE '\') ORDER BY t.[LastName], t.[PatientGUID]
-- args: o% | o% | o%

-- mysql
SELECT t.`PatientGUID`, t.`ModifiedAt`, rc.`CDCCode`, rc.`Description`, ec.`CDCCode`, ec.`Description`, t.`MRN`, t.`LastName`, t.`FirstName`, t.`MiddleName`, t.`Name Prefix`, t.`HomePhone`, t.`SexCode`, t.`DOB`, t.`DeathDate`, t.`Address1`, t.`City`, t.`StateCode`, t.`Zip`, t.`Latitude`, t.`Longitude` FROM `PatientMaster` t LEFT JOIN `RaceCode` rc ON rc.`Code` = t.`RaceCode` LEFT JOIN `EthnicityCode` ec ON ec.`Code` = t.`EthnicityCode` WHERE t.`DeathDate` IS NOT NULL AND (t.`LastName` LIKE ? ESCAPE CHAR(92) OR t.`FirstName` LIKE ? ESCAPE CHAR(92) OR t.`MiddleName` LIKE ? ESCAPE CHAR(92)) ORDER BY t.`LastName`, t.`PatientGUID` LIMIT 21
-- args: o% | o% | o%

