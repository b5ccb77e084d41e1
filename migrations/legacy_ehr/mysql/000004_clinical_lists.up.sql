-- The EHR's clinical lists: problem list (with a diagnosis code lookup),
-- allergies, medication orders (with the formulary), vaccine
-- administrations (with the CVX lookup) and procedure history. uuid keys,
-- datetimeoffset recording times (varied offsets) beside datetime2 wall-clock
-- stamps, words and letters as status codes, bit flags, nullable columns.
-- Clinicians are ProviderMaster keys. Keep parallel to the other
-- dialects' files. MariaDB: the _ci collation serves the string searches.
-- No implicit ON UPDATE CURRENT_TIMESTAMP on the timestamp columns (see 000001).
SET SESSION explicit_defaults_for_timestamp = ON;

CREATE TABLE `DiagnosisCode` (
  `Code`        varchar(20)  NOT NULL,
  `SNOMEDCT`    varchar(20)  NULL,
  `ICD10CM`     varchar(10)  NULL,
  `Description` varchar(200) NOT NULL,
  `IsActive`    boolean      NOT NULL DEFAULT true,
  CONSTRAINT `PK_DiagnosisCode` PRIMARY KEY (`Code`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `ProblemList` (
  `ProblemGUID`      uuid         NOT NULL DEFAULT UUID(),
  `PatientGUID`      uuid         NOT NULL,
  `VisitGUID`        uuid         NULL,
  `DiagnosisCode`    varchar(20)  NOT NULL,
  `ListType`         char(1)      NOT NULL,
  `ProblemStatus`    varchar(12)  NULL,
  `VerificationCode` char(1)      NULL,
  `OnsetDate`        date         NULL,
  `ResolvedDate`     date         NULL,
  `RecordedAt`       timestamp(0) NULL,
  `RecordedByGUID`   uuid         NULL,
  `IsConfidential`   boolean      NOT NULL DEFAULT false,
  `ModifiedAt`       timestamp(6) NOT NULL,
  CONSTRAINT `PK_ProblemList` PRIMARY KEY (`ProblemGUID`),
  CONSTRAINT `FK_ProblemList_PatientGUID` FOREIGN KEY (`PatientGUID`) REFERENCES `PatientMaster` (`PatientGUID`),
  CONSTRAINT `FK_ProblemList_VisitGUID` FOREIGN KEY (`VisitGUID`) REFERENCES `PatientVisit` (`VisitGUID`),
  CONSTRAINT `FK_ProblemList_DiagnosisCode` FOREIGN KEY (`DiagnosisCode`) REFERENCES `DiagnosisCode` (`Code`),
  CONSTRAINT `FK_ProblemList_RecordedByGUID` FOREIGN KEY (`RecordedByGUID`) REFERENCES `ProviderMaster` (`ProviderGUID`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX `IX_ProblemList_PatientGUID_OnsetDate` ON `ProblemList` (`PatientGUID`, `OnsetDate`);
CREATE INDEX `IX_ProblemList_PatientGUID_ListType` ON `ProblemList` (`PatientGUID`, `ListType`);
CREATE INDEX `IX_ProblemList_DiagnosisCode` ON `ProblemList` (`DiagnosisCode`);
CREATE INDEX `IX_ProblemList_OnsetDate` ON `ProblemList` (`OnsetDate`);
CREATE INDEX `IX_ProblemList_VisitGUID` ON `ProblemList` (`VisitGUID`);
CREATE INDEX `IX_ProblemList_RecordedAt` ON `ProblemList` (`RecordedAt`);
CREATE INDEX `IX_ProblemList_ModifiedAt` ON `ProblemList` (`ModifiedAt`);

CREATE TABLE `PatientAllergy` (
  `AllergyGUID`      uuid         NOT NULL DEFAULT UUID(),
  `PatientGUID`      uuid         NOT NULL,
  `AllergenSNOMED`   varchar(20)  NULL,
  `AllergenName`     varchar(200) NOT NULL,
  `AllergenType`     varchar(12)  NOT NULL,
  `Criticality`      varchar(12)  NULL,
  `AllergyStatus`    char(1)      NOT NULL,
  `VerificationCode` char(1)      NULL,
  `ReactionSNOMED`   varchar(20)  NULL,
  `Reaction`         varchar(100) NULL,
  `ReactionSeverity` varchar(10)  NULL,
  `EnteredAt`        timestamp(0) NULL,
  `EnteredByGUID`    uuid         NULL,
  `ModifiedAt`       datetime(3)  NOT NULL,
  CONSTRAINT `PK_PatientAllergy` PRIMARY KEY (`AllergyGUID`),
  CONSTRAINT `FK_PatientAllergy_PatientGUID` FOREIGN KEY (`PatientGUID`) REFERENCES `PatientMaster` (`PatientGUID`),
  CONSTRAINT `FK_PatientAllergy_EnteredByGUID` FOREIGN KEY (`EnteredByGUID`) REFERENCES `ProviderMaster` (`ProviderGUID`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX `IX_PatientAllergy_PatientGUID_AllergyStatus` ON `PatientAllergy` (`PatientGUID`, `AllergyStatus`);
CREATE INDEX `IX_PatientAllergy_AllergenSNOMED` ON `PatientAllergy` (`AllergenSNOMED`);
CREATE INDEX `IX_PatientAllergy_EnteredAt` ON `PatientAllergy` (`EnteredAt`);
CREATE INDEX `IX_PatientAllergy_EnteredByGUID` ON `PatientAllergy` (`EnteredByGUID`);
CREATE INDEX `IX_PatientAllergy_ModifiedAt` ON `PatientAllergy` (`ModifiedAt`);

CREATE TABLE `Formulary` (
  `DrugCode` varchar(20)  NOT NULL,
  `RxNorm`   varchar(20)  NOT NULL,
  `DrugName` varchar(200) NOT NULL,
  `IsActive` boolean      NOT NULL DEFAULT true,
  CONSTRAINT `PK_Formulary` PRIMARY KEY (`DrugCode`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX `IX_Formulary_RxNorm` ON `Formulary` (`RxNorm`);

CREATE TABLE `MedicationOrder` (
  `OrderGUID`      uuid         NOT NULL DEFAULT UUID(),
  `PatientGUID`    uuid         NOT NULL,
  `VisitGUID`      uuid         NULL,
  `DrugCode`       varchar(20)  NOT NULL,
  `OrderStatus`    varchar(12)  NOT NULL,
  `OrderClass`     char(1)      NOT NULL,
  `Sig`            varchar(400) NULL,
  `DispenseQty`    decimal(9,2) NULL,
  `OrderedAt`      timestamp(0) NOT NULL,
  `PrescriberGUID` uuid         NULL,
  `ModifiedAt`     timestamp(6) NOT NULL,
  CONSTRAINT `PK_MedicationOrder` PRIMARY KEY (`OrderGUID`),
  CONSTRAINT `FK_MedicationOrder_PatientGUID` FOREIGN KEY (`PatientGUID`) REFERENCES `PatientMaster` (`PatientGUID`),
  CONSTRAINT `FK_MedicationOrder_VisitGUID` FOREIGN KEY (`VisitGUID`) REFERENCES `PatientVisit` (`VisitGUID`),
  CONSTRAINT `FK_MedicationOrder_DrugCode` FOREIGN KEY (`DrugCode`) REFERENCES `Formulary` (`DrugCode`),
  CONSTRAINT `FK_MedicationOrder_PrescriberGUID` FOREIGN KEY (`PrescriberGUID`) REFERENCES `ProviderMaster` (`ProviderGUID`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX `IX_MedicationOrder_PatientGUID_OrderedAt` ON `MedicationOrder` (`PatientGUID`, `OrderedAt`);
CREATE INDEX `IX_MedicationOrder_PatientGUID_OrderStatus` ON `MedicationOrder` (`PatientGUID`, `OrderStatus`);
CREATE INDEX `IX_MedicationOrder_VisitGUID` ON `MedicationOrder` (`VisitGUID`);
CREATE INDEX `IX_MedicationOrder_DrugCode` ON `MedicationOrder` (`DrugCode`);
CREATE INDEX `IX_MedicationOrder_OrderedAt` ON `MedicationOrder` (`OrderedAt`);
CREATE INDEX `IX_MedicationOrder_PrescriberGUID` ON `MedicationOrder` (`PrescriberGUID`);
CREATE INDEX `IX_MedicationOrder_ModifiedAt` ON `MedicationOrder` (`ModifiedAt`);

CREATE TABLE `VaccineCode` (
  `CVXCode`     varchar(3)   NOT NULL,
  `VaccineName` varchar(200) NOT NULL,
  `IsActive`    boolean      NOT NULL DEFAULT true,
  CONSTRAINT `PK_VaccineCode` PRIMARY KEY (`CVXCode`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `VaccineAdministration` (
  `AdminGUID`          uuid         NOT NULL DEFAULT UUID(),
  `PatientGUID`        uuid         NOT NULL,
  `VisitGUID`          uuid         NULL,
  `CVXCode`            varchar(3)   NOT NULL,
  `AdminStatus`        char(1)      NOT NULL,
  `RefusalReason`      varchar(10)  NULL,
  `AdministeredAt`     timestamp(0) NOT NULL,
  `PrimarySource`      char(1)      NULL,
  `LotNumber`          varchar(20)  NULL,
  `DoseML`             decimal(5,2) NULL,
  `AdministeredByGUID` uuid         NULL,
  `ModifiedAt`         timestamp(6) NOT NULL,
  CONSTRAINT `PK_VaccineAdministration` PRIMARY KEY (`AdminGUID`),
  CONSTRAINT `FK_VaccineAdministration_PatientGUID` FOREIGN KEY (`PatientGUID`) REFERENCES `PatientMaster` (`PatientGUID`),
  CONSTRAINT `FK_VaccineAdministration_VisitGUID` FOREIGN KEY (`VisitGUID`) REFERENCES `PatientVisit` (`VisitGUID`),
  CONSTRAINT `FK_VaccineAdministration_CVXCode` FOREIGN KEY (`CVXCode`) REFERENCES `VaccineCode` (`CVXCode`),
  CONSTRAINT `FK_VaccineAdministration_AdministeredByGUID` FOREIGN KEY (`AdministeredByGUID`) REFERENCES `ProviderMaster` (`ProviderGUID`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX `IX_VaccineAdministration_PatientGUID_AdministeredAt` ON `VaccineAdministration` (`PatientGUID`, `AdministeredAt`);
CREATE INDEX `IX_VaccineAdministration_AdministeredAt` ON `VaccineAdministration` (`AdministeredAt`);
CREATE INDEX `IX_VaccineAdministration_CVXCode` ON `VaccineAdministration` (`CVXCode`);
CREATE INDEX `IX_VaccineAdministration_AdministeredByGUID` ON `VaccineAdministration` (`AdministeredByGUID`);
CREATE INDEX `IX_VaccineAdministration_ModifiedAt` ON `VaccineAdministration` (`ModifiedAt`);
CREATE INDEX `IX_VaccineAdministration_LotNumber` ON `VaccineAdministration` (`LotNumber`);

CREATE TABLE `ProcedureHistory` (
  `ProcedureGUID` uuid         NOT NULL DEFAULT UUID(),
  `PatientGUID`   uuid         NOT NULL,
  `VisitGUID`     uuid         NULL,
  `CPTCode`       varchar(10)  NULL,
  `SNOMEDCode`    varchar(20)  NULL,
  `ProcedureName` varchar(200) NOT NULL,
  `StatusCode`    char(1)      NOT NULL,
  `StartedAt`     timestamp(0) NOT NULL,
  `EndedAt`       timestamp(0) NULL,
  `SurgeonGUID`   uuid         NULL,
  `ModifiedAt`    datetime(3)  NOT NULL,
  CONSTRAINT `PK_ProcedureHistory` PRIMARY KEY (`ProcedureGUID`),
  CONSTRAINT `FK_ProcedureHistory_PatientGUID` FOREIGN KEY (`PatientGUID`) REFERENCES `PatientMaster` (`PatientGUID`),
  CONSTRAINT `FK_ProcedureHistory_VisitGUID` FOREIGN KEY (`VisitGUID`) REFERENCES `PatientVisit` (`VisitGUID`),
  CONSTRAINT `FK_ProcedureHistory_SurgeonGUID` FOREIGN KEY (`SurgeonGUID`) REFERENCES `ProviderMaster` (`ProviderGUID`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX `IX_ProcedureHistory_PatientGUID_StartedAt` ON `ProcedureHistory` (`PatientGUID`, `StartedAt`);
CREATE INDEX `IX_ProcedureHistory_PatientGUID_CPTCode` ON `ProcedureHistory` (`PatientGUID`, `CPTCode`);
CREATE INDEX `IX_ProcedureHistory_CPTCode` ON `ProcedureHistory` (`CPTCode`);
CREATE INDEX `IX_ProcedureHistory_SNOMEDCode` ON `ProcedureHistory` (`SNOMEDCode`);
CREATE INDEX `IX_ProcedureHistory_StartedAt` ON `ProcedureHistory` (`StartedAt`);
CREATE INDEX `IX_ProcedureHistory_EndedAt` ON `ProcedureHistory` (`EndedAt`);
CREATE INDEX `IX_ProcedureHistory_VisitGUID` ON `ProcedureHistory` (`VisitGUID`);
CREATE INDEX `IX_ProcedureHistory_SurgeonGUID` ON `ProcedureHistory` (`SurgeonGUID`);
CREATE INDEX `IX_ProcedureHistory_ModifiedAt` ON `ProcedureHistory` (`ModifiedAt`);
