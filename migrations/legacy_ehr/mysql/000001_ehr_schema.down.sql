DROP TABLE `LabResult`;
DROP TABLE `PatientVisit`;
DROP TABLE `PatientMaster`;
DROP TABLE `LabTest`;
DROP TABLE `VisitType`;
DROP TABLE `EthnicityCode`;
DROP TABLE `RaceCode`;
