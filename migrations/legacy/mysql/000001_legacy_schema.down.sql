DROP TABLE lab_result;
DROP TABLE lab_test_code;
DROP TABLE visit;
DROP TABLE pat_master;
