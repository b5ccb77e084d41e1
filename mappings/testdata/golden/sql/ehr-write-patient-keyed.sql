-- sqlite
INSERT INTO "PatientMaster" ("PatientGUID", "Address1", "City", "DOB", "DeathDate", "FirstName", "HomePhone", "LastName", "Latitude", "Longitude", "MRN", "MiddleName", "Name Prefix", "SexCode", "SiteCode", "StateCode", "Zip", "ModifiedAt") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18) RETURNING "PatientGUID"
-- args: 6c2d1e4f-8a9b-4c0d-9e1f-2a3b4c5d6e7f | <nil> | <nil> | <nil> | <nil> | <nil> | <nil> | Keyed | <nil> | <nil> | M1 | <nil> | <nil> | <nil> | NORTH | <nil> | <nil> | 2026-01-15T17:00:00Z

-- postgres
INSERT INTO dbo."PatientMaster" ("PatientGUID", "Address1", "City", "DOB", "DeathDate", "FirstName", "HomePhone", "LastName", "Latitude", "Longitude", "MRN", "MiddleName", "Name Prefix", "SexCode", "SiteCode", "StateCode", "Zip", "ModifiedAt") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING "PatientGUID"
-- args: 6c2d1e4f-8a9b-4c0d-9e1f-2a3b4c5d6e7f | <nil> | <nil> | <nil> | <nil> | <nil> | <nil> | Keyed | <nil> | <nil> | M1 | <nil> | <nil> | <nil> | NORTH | <nil> | <nil> | 2026-01-15 17:00:00 +0000 UTC

-- sqlserver
INSERT INTO dbo.[PatientMaster] ([PatientGUID], [Address1], [City], [DOB], [DeathDate], [FirstName], [HomePhone], [LastName], [Latitude], [Longitude], [MRN], [MiddleName], [Name Prefix], [SexCode], [SiteCode], [StateCode], [Zip], [ModifiedAt]) OUTPUT INSERTED.[PatientGUID] VALUES (@p1, @p2, @p3, @p4, @p5, @p6, @p7, @p8, @p9, @p10, @p11, @p12, @p13, @p14, @p15, @p16, @p17, @p18)
-- args: 6c2d1e4f-8a9b-4c0d-9e1f-2a3b4c5d6e7f | <nil> | <nil> | <nil> | <nil> | <nil> | <nil> | Keyed | <nil> | <nil> | M1 | <nil> | <nil> | <nil> | NORTH | <nil> | <nil> | 2026-01-15 17:00:00 +0000 UTC

-- mysql
INSERT INTO `PatientMaster` (`PatientGUID`, `Address1`, `City`, `DOB`, `DeathDate`, `FirstName`, `HomePhone`, `LastName`, `Latitude`, `Longitude`, `MRN`, `MiddleName`, `Name Prefix`, `SexCode`, `SiteCode`, `StateCode`, `Zip`, `ModifiedAt`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING `PatientGUID`
-- args: 6c2d1e4f-8a9b-4c0d-9e1f-2a3b4c5d6e7f | <nil> | <nil> | <nil> | <nil> | <nil> | <nil> | Keyed | <nil> | <nil> | M1 | <nil> | <nil> | <nil> | NORTH | <nil> | <nil> | 2026-01-15 17:00:00 +0000 UTC

