DROP TABLE dbo."ProcedureHistory";
DROP TABLE dbo."VaccineAdministration";
DROP TABLE dbo."VaccineCode";
DROP TABLE dbo."MedicationOrder";
DROP TABLE dbo."Formulary";
DROP TABLE dbo."PatientAllergy";
DROP TABLE dbo."ProblemList";
DROP TABLE dbo."DiagnosisCode";
