DROP TABLE proc_log;
DROP TABLE immun_admin;
DROP TABLE vacc_code;
DROP TABLE med_order;
DROP TABLE drug_code;
DROP TABLE pat_allergy;
DROP TABLE problem_list;
