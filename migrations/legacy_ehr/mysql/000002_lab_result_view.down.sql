DROP VIEW `vw_LabResultDetail`;
