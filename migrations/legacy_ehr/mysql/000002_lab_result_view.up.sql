-- A migration of its own, as on SQL Server (where CREATE VIEW must be
-- alone in its batch).
CREATE VIEW `vw_LabResultDetail` AS
SELECT r.`ResultGUID`, r.`PatientGUID`, r.`VisitGUID`, r.`TestCode`,
       t.`LOINC`, t.`Display` AS `TestName`,
       r.`NumericValue`, r.`TextValue`, COALESCE(r.`Units`, t.`Unit`) AS `Units`,
       r.`ReferenceRange`, r.`AbnormalFlag`, r.`ResultStatus`,
       r.`CollectedAt`, r.`OrderingProviderID`, r.`ModifiedAt`
FROM `LabResult` AS r
JOIN `LabTest` AS t ON t.`LocalCode` = r.`TestCode`;
