DROP TABLE `ProcedureHistory`;
DROP TABLE `VaccineAdministration`;
DROP TABLE `VaccineCode`;
DROP TABLE `MedicationOrder`;
DROP TABLE `Formulary`;
DROP TABLE `PatientAllergy`;
DROP TABLE `ProblemList`;
DROP TABLE `DiagnosisCode`;
