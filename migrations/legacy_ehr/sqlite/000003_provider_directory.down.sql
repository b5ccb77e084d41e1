DROP TABLE "ProviderMaster";
DROP TABLE "Department";
DROP TABLE "FacilityMaster";
