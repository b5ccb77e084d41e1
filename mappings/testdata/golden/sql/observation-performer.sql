-- sqlite
SELECT t.result_id, t.upd_ts, t.lab_accession, t.result_status, ltc.loinc_cd, ltc.loinc_display, t.local_test_cd, t.pat_id, t.visit_id, t.collected_dttm, t.performer_id, t.result_val, t.result_unit, t.abn_flag, t.ref_range FROM lab_result t LEFT JOIN lab_test_code ltc ON ltc.local_cd = t.local_test_cd WHERE t.pat_id = ?1 AND t.performer_id = ?2 ORDER BY t.result_id LIMIT 21
-- args: 42 | DR0007

-- postgres
SELECT t.result_id, t.upd_ts, t.lab_accession, t.result_status, ltc.loinc_cd, ltc.loinc_display, t.local_test_cd, t.pat_id, t.visit_id, t.collected_dttm, t.performer_id, t.result_val, t.result_unit, t.abn_flag, t.ref_range FROM lab_result t LEFT JOIN lab_test_code ltc ON ltc.local_cd = t.local_test_cd WHERE t.pat_id = $1 AND t.performer_id = $2 ORDER BY t.result_id LIMIT 21
-- args: 42 | DR0007

-- sqlserver
SELECT TOP (21) t.result_id, t.upd_ts, t.lab_accession, t.result_status, ltc.loinc_cd, ltc.loinc_display, t.local_test_cd, t.pat_id, t.visit_id, t.collected_dttm, t.performer_id, t.result_val, t.result_unit, t.abn_flag, t.ref_range FROM lab_result t LEFT JOIN lab_test_code ltc ON ltc.local_cd = t.local_test_cd WHERE t.pat_id = @p1 AND t.performer_id = @p2 ORDER BY t.result_id
-- args: 42 | DR0007

-- mysql
SELECT t.result_id, t.upd_ts, t.lab_accession, t.result_status, ltc.loinc_cd, ltc.loinc_display, t.local_test_cd, t.pat_id, t.visit_id, t.collected_dttm, t.performer_id, t.result_val, t.result_unit, t.abn_flag, t.ref_range FROM lab_result t LEFT JOIN lab_test_code ltc ON ltc.local_cd = t.local_test_cd WHERE t.pat_id = ? AND t.performer_id = ? ORDER BY t.result_id LIMIT 21
-- args: 42 | DR0007

