-- Second demo legacy schema, a port of a SQL Server EHR database to
-- MariaDB (10.7 or later: the native UUID type). Keep it parallel to the
-- SQL Server, PostgreSQL and SQLite files; see ../README.md.
-- No dbo qualifier: a schema is a database in MariaDB, so dbo.X would name
-- a database other than the one the DSN opens (shared by every database on
-- the server, with its own grants, apart from this schema's migration
-- versions). The tables live in the DSN's database, which plays dbo's part;
-- the mapping engine drops a spec's dbo. qualifier on this dialect.
-- Type map: uniqueidentifier -> UUID, datetimeoffset -> TIMESTAMP (an
-- instant kept as UTC and read in the session's zone, which the facade sets
-- to +00:00; the offset is not kept, as with PostgreSQL's timestamptz),
-- datetime2 -> DATETIME (a zone-less wall clock), money -> DECIMAL(19,4),
-- bit -> BOOLEAN, nvarchar -> VARCHAR in utf8mb4. Fractions stop at the
-- microsecond (TIMESTAMP(6), DATETIME(6)).
-- Whatever the server's default: a TIMESTAMP column gets no implicit
-- DEFAULT CURRENT_TIMESTAMP ON UPDATE ..., which would rewrite a
-- collection time on every update.
SET SESSION explicit_defaults_for_timestamp = ON;

CREATE TABLE `RaceCode` (
  `Code`        varchar(10)  NOT NULL,
  `Description` varchar(100) NOT NULL,
  `CDCCode`     varchar(10)  NULL,
  `IsActive`    boolean      NOT NULL DEFAULT true,
  CONSTRAINT `PK_RaceCode` PRIMARY KEY (`Code`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `EthnicityCode` (
  `Code`        varchar(10)  NOT NULL,
  `Description` varchar(100) NOT NULL,
  `CDCCode`     varchar(10)  NULL,
  `IsActive`    boolean      NOT NULL DEFAULT true,
  CONSTRAINT `PK_EthnicityCode` PRIMARY KEY (`Code`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `VisitType` (
  `Code`        varchar(10)  NOT NULL,
  `Description` varchar(100) NOT NULL,
  `IsInpatient` boolean      NOT NULL DEFAULT false,
  CONSTRAINT `PK_VisitType` PRIMARY KEY (`Code`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `LabTest` (
  `LocalCode` varchar(20)  NOT NULL,
  `LOINC`     varchar(10)  NULL,
  `Display`   varchar(200) NOT NULL,
  `Unit`      varchar(20)  NULL,
  `IsActive`  boolean      NOT NULL DEFAULT true,
  CONSTRAINT `PK_LabTest` PRIMARY KEY (`LocalCode`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- UUID() is a version-1 uuid: unique, as NEWID() is, if not random.
CREATE TABLE `PatientMaster` (
  `PatientGUID`   uuid          NOT NULL DEFAULT UUID(),
  `MRN`           varchar(20)   NOT NULL,
  `SiteCode`      varchar(10)   NOT NULL,
  `LastName`      varchar(60)   NOT NULL,
  `FirstName`     varchar(60)   NULL,
  `MiddleName`    varchar(60)   NULL,
  `Name Prefix`   varchar(20)   NULL,
  `DOB`           date          NULL,
  `SexCode`       char(1)       NULL,
  `RaceCode`      varchar(10)   NULL,
  `EthnicityCode` varchar(10)   NULL,
  `Address1`      varchar(100)  NULL,
  `City`          varchar(60)   NULL,
  `StateCode`     char(2)       NULL,
  `Zip`           varchar(10)   NULL,
  `Latitude`      decimal(9,6)  NULL,
  `Longitude`     decimal(9,6)  NULL,
  `HomePhone`     varchar(25)   NULL,
  `DeathDate`     datetime(0)   NULL,
  `SSN`           char(11)      NULL,
  `IsActive`      boolean       NOT NULL DEFAULT true,
  `ModifiedAt`    timestamp(6)  NULL,
  `CreatedAt`     datetime(6)   NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  CONSTRAINT `PK_PatientMaster` PRIMARY KEY (`PatientGUID`),
  CONSTRAINT `UQ_PatientMaster_MRN` UNIQUE (`MRN`),
  CONSTRAINT `FK_PatientMaster_RaceCode` FOREIGN KEY (`RaceCode`) REFERENCES `RaceCode` (`Code`),
  CONSTRAINT `FK_PatientMaster_EthnicityCode` FOREIGN KEY (`EthnicityCode`) REFERENCES `EthnicityCode` (`Code`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
-- The case-insensitive collation makes a plain index serve the
-- case-insensitive prefix search (LIKE 'o%').
CREATE INDEX `IX_PatientMaster_LastName`   ON `PatientMaster` (`LastName`);
CREATE INDEX `IX_PatientMaster_DOB`        ON `PatientMaster` (`DOB`);
CREATE INDEX `IX_PatientMaster_ModifiedAt` ON `PatientMaster` (`ModifiedAt`);

CREATE TABLE `PatientVisit` (
  `VisitGUID`         uuid          NOT NULL DEFAULT UUID(),
  `PatientGUID`       uuid          NOT NULL,
  `VisitNumber`       varchar(20)   NOT NULL,
  `VisitTypeCode`     varchar(10)   NOT NULL,
  `StatusCode`        char(1)       NOT NULL,
  `AdmitDateTime`     timestamp(0)  NOT NULL,
  `DischargeDateTime` timestamp(0)  NULL,
  `Department`        varchar(50)   NULL,
  `ModifiedAt`        datetime(3)   NOT NULL,
  CONSTRAINT `PK_PatientVisit` PRIMARY KEY (`VisitGUID`),
  CONSTRAINT `UQ_PatientVisit_VisitNumber` UNIQUE (`VisitNumber`),
  CONSTRAINT `FK_PatientVisit_PatientMaster` FOREIGN KEY (`PatientGUID`) REFERENCES `PatientMaster` (`PatientGUID`),
  CONSTRAINT `FK_PatientVisit_VisitType` FOREIGN KEY (`VisitTypeCode`) REFERENCES `VisitType` (`Code`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX `IX_PatientVisit_PatientGUID_AdmitDateTime` ON `PatientVisit` (`PatientGUID`, `AdmitDateTime`);
CREATE INDEX `IX_PatientVisit_AdmitDateTime`             ON `PatientVisit` (`AdmitDateTime`);
CREATE INDEX `IX_PatientVisit_ModifiedAt`                ON `PatientVisit` (`ModifiedAt`);

CREATE TABLE `LabResult` (
  `ResultGUID`         uuid           NOT NULL DEFAULT UUID(),
  `PatientGUID`        uuid           NOT NULL,
  `VisitGUID`          uuid           NULL,
  `TestCode`           varchar(20)    NOT NULL,
  `NumericValue`       decimal(12,4)  NULL,
  `TextValue`          varchar(100)   NULL,
  `Units`              varchar(20)    NULL,
  `ReferenceRange`     varchar(40)    NULL,
  `AbnormalFlag`       char(1)        NULL,
  `ResultStatus`       char(1)        NOT NULL,
  `CollectedAt`        timestamp(0)   NOT NULL,
  `Charge`             decimal(19,4)  NULL,
  `OrderingProviderID` varchar(20)    NULL,
  `ModifiedAt`         timestamp(6)   NOT NULL,
  CONSTRAINT `PK_LabResult` PRIMARY KEY (`ResultGUID`),
  CONSTRAINT `FK_LabResult_PatientMaster` FOREIGN KEY (`PatientGUID`) REFERENCES `PatientMaster` (`PatientGUID`),
  CONSTRAINT `FK_LabResult_PatientVisit` FOREIGN KEY (`VisitGUID`) REFERENCES `PatientVisit` (`VisitGUID`),
  CONSTRAINT `FK_LabResult_LabTest` FOREIGN KEY (`TestCode`) REFERENCES `LabTest` (`LocalCode`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX `IX_LabResult_CollectedAt`             ON `LabResult` (`CollectedAt`);
CREATE INDEX `IX_LabResult_PatientGUID_CollectedAt` ON `LabResult` (`PatientGUID`, `CollectedAt`);
CREATE INDEX `IX_LabResult_PatientGUID_TestCode`    ON `LabResult` (`PatientGUID`, `TestCode`, `CollectedAt`);
CREATE INDEX `IX_LabResult_VisitGUID`               ON `LabResult` (`VisitGUID`);
CREATE INDEX `IX_LabResult_ModifiedAt`              ON `LabResult` (`ModifiedAt`);
