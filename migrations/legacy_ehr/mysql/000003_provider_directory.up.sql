-- The EHR's provider directory: facilities, departments (the codes
-- PatientVisit.Department holds) and providers (ProviderKey is what
-- LabResult.OrderingProviderID holds). The old tables keep their columns:
-- specs join the directory through them. Keep parallel to the other
-- dialects' files. MariaDB: the _ci collation serves the string searches.
CREATE TABLE `FacilityMaster` (
  `FacilityGUID` uuid         NOT NULL DEFAULT UUID(),
  `FacilityName` varchar(100) NOT NULL,
  `NPI`          char(10)     NULL,
  `Phone`        varchar(25)  NULL,
  `Address1`     varchar(100) NULL,
  `City`         varchar(60)  NULL,
  `StateCode`    char(2)      NULL,
  `Zip`          varchar(10)  NULL,
  `IsActive`     boolean      NOT NULL DEFAULT true,
  `ModifiedAt`   datetime(3)  NOT NULL,
  CONSTRAINT `PK_FacilityMaster` PRIMARY KEY (`FacilityGUID`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX `IX_FacilityMaster_FacilityName` ON `FacilityMaster` (`FacilityName`);

CREATE TABLE `Department` (
  `Code`         varchar(10)  NOT NULL,
  `Name`         varchar(100) NOT NULL,
  `FacilityGUID` uuid         NULL,
  `Phone`        varchar(25)  NULL,
  `IsActive`     boolean      NOT NULL DEFAULT true,
  `ModifiedAt`   datetime(3)  NOT NULL,
  CONSTRAINT `PK_Department` PRIMARY KEY (`Code`),
  CONSTRAINT `FK_Department_FacilityMaster` FOREIGN KEY (`FacilityGUID`) REFERENCES `FacilityMaster` (`FacilityGUID`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX `IX_Department_Name`         ON `Department` (`Name`);
CREATE INDEX `IX_Department_FacilityGUID` ON `Department` (`FacilityGUID`);

CREATE TABLE `ProviderMaster` (
  `ProviderGUID` uuid         NOT NULL DEFAULT UUID(),
  `ProviderKey`  varchar(20)  NOT NULL,
  `NPI`          char(10)     NOT NULL,
  `LastName`     varchar(60)  NOT NULL,
  `FirstName`    varchar(60)  NULL,
  `Credentials`  varchar(20)  NULL,
  `Phone`        varchar(25)  NULL,
  `IsActive`     boolean      NOT NULL DEFAULT true,
  `ModifiedAt`   datetime(3)  NOT NULL,
  CONSTRAINT `PK_ProviderMaster` PRIMARY KEY (`ProviderGUID`),
  CONSTRAINT `UQ_ProviderMaster_ProviderKey` UNIQUE (`ProviderKey`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX `IX_ProviderMaster_LastName` ON `ProviderMaster` (`LastName`);
CREATE INDEX `IX_ProviderMaster_NPI`      ON `ProviderMaster` (`NPI`);
