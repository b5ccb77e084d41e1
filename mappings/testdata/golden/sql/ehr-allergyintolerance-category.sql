-- sqlite
SELECT t."AllergyGUID", t."ModifiedAt", t."AllergyStatus", t."VerificationCode", t."AllergenType", t."Criticality", t."AllergenSNOMED", t."AllergenName", t."PatientGUID", t."EnteredAt", t."EnteredByGUID", t."ReactionSNOMED", t."Reaction", t."ReactionSeverity" FROM "PatientAllergy" t WHERE t."AllergenType" = ?1 AND t."Criticality" = ?2 AND t."PatientGUID" = ?3 ORDER BY strftime('%Y-%m-%d %H:%M:%f', t."EnteredAt") DESC NULLS LAST, t."AllergyGUID" DESC LIMIT 21
-- args: Drug | High | f12c46c7-f1e3-510b-a297-05df5f8e184e

-- postgres
SELECT t."AllergyGUID", t."ModifiedAt", t."AllergyStatus", t."VerificationCode", t."AllergenType", t."Criticality", t."AllergenSNOMED", t."AllergenName", t."PatientGUID", t."EnteredAt", t."EnteredByGUID", t."ReactionSNOMED", t."Reaction", t."ReactionSeverity" FROM dbo."PatientAllergy" t WHERE t."AllergenType" = $1 AND t."Criticality" = $2 AND t."PatientGUID" = $3 ORDER BY t."EnteredAt" DESC NULLS LAST, t."AllergyGUID" DESC LIMIT 21
-- args: Drug | High | f12c46c7-f1e3-510b-a297-05df5f8e184e

-- sqlserver
SELECT TOP (21) t.[AllergyGUID], t.[ModifiedAt], t.[AllergyStatus], t.[VerificationCode], t.[AllergenType], t.[Criticality], t.[AllergenSNOMED], t.[AllergenName], t.[PatientGUID], t.[EnteredAt], t.[EnteredByGUID], t.[ReactionSNOMED], t.[Reaction], t.[ReactionSeverity] FROM dbo.[PatientAllergy] t WHERE t.[AllergenType] = @p1 AND t.[Criticality] = @p2 AND t.[PatientGUID] = @p3 ORDER BY CASE WHEN t.[EnteredAt] IS NULL THEN 1 ELSE 0 END, t.[EnteredAt] DESC, t.[AllergyGUID] DESC
-- args: Drug | High | f12c46c7-f1e3-510b-a297-05df5f8e184e

-- mysql
SELECT t.`AllergyGUID`, t.`ModifiedAt`, t.`AllergyStatus`, t.`VerificationCode`, t.`AllergenType`, t.`Criticality`, t.`AllergenSNOMED`, t.`AllergenName`, t.`PatientGUID`, t.`EnteredAt`, t.`EnteredByGUID`, t.`ReactionSNOMED`, t.`Reaction`, t.`ReactionSeverity` FROM `PatientAllergy` t WHERE t.`AllergenType` = ? AND t.`Criticality` = ? AND t.`PatientGUID` = ? ORDER BY CASE WHEN t.`EnteredAt` IS NULL THEN 1 ELSE 0 END, t.`EnteredAt` DESC, t.`AllergyGUID` DESC LIMIT 21
-- args: Drug | High | f12c46c7-f1e3-510b-a297-05df5f8e184e

