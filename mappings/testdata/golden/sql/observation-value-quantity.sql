-- sqlite
SELECT t.result_id, t.upd_ts, t.lab_accession, t.result_status, ltc.loinc_cd, ltc.loinc_display, t.local_test_cd, t.pat_id, t.visit_id, t.collected_dttm, t.performer_id, t.result_val, t.result_unit, t.abn_flag, t.ref_range FROM lab_result t LEFT JOIN lab_test_code ltc ON ltc.local_cd = t.local_test_cd WHERE t.visit_id = ?1 AND ((CASE WHEN t.result_val <> '' AND trim(t.result_val, '0123456789.-') = '' AND t.result_val NOT LIKE '%.%.%' THEN CAST(t.result_val AS REAL) END) > ?2) ORDER BY t.result_id LIMIT 21
-- args: 3 | 5.4

-- postgres
SELECT t.result_id, t.upd_ts, t.lab_accession, t.result_status, ltc.loinc_cd, ltc.loinc_display, t.local_test_cd, t.pat_id, t.visit_id, t.collected_dttm, t.performer_id, t.result_val, t.result_unit, t.abn_flag, t.ref_range FROM lab_result t LEFT JOIN lab_test_code ltc ON ltc.local_cd = t.local_test_cd WHERE t.visit_id = $1 AND ((CASE WHEN t.result_val ~ '^-?[0-9]+(\.[0-9]+)?$' THEN t.result_val::numeric END) > $2) ORDER BY t.result_id LIMIT 21
-- args: 3 | 5.4

-- sqlserver
SELECT TOP (21) t.result_id, t.upd_ts, t.lab_accession, t.result_status, ltc.loinc_cd, ltc.loinc_display, t.local_test_cd, t.pat_id, t.visit_id, t.collected_dttm, t.performer_id, t.result_val, t.result_unit, t.abn_flag, t.ref_range FROM lab_result t LEFT JOIN lab_test_code ltc ON ltc.local_cd = t.local_test_cd WHERE t.visit_id = @p1 AND (TRY_CAST(t.result_val AS decimal(38,10)) > @p2) ORDER BY t.result_id
-- args: 3 | 5.4

-- mysql
SELECT t.result_id, t.upd_ts, t.lab_accession, t.result_status, ltc.loinc_cd, ltc.loinc_display, t.local_test_cd, t.pat_id, t.visit_id, t.collected_dttm, t.performer_id, t.result_val, t.result_unit, t.abn_flag, t.ref_range FROM lab_result t LEFT JOIN lab_test_code ltc ON ltc.local_cd = t.local_test_cd WHERE t.visit_id = ? AND ((CASE WHEN t.result_val REGEXP '^-?[0-9]+([.][0-9]+)?$' THEN CAST(t.result_val AS DECIMAL(38,10)) END) > ?) ORDER BY t.result_id LIMIT 21
-- args: 3 | 5.4

