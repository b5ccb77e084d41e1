-- sqlite
SELECT t.result_id, t.upd_ts, t.lab_accession, t.result_status, ltc.loinc_cd, ltc.loinc_display, t.local_test_cd, t.pat_id, t.visit_id, t.collected_dttm, t.performer_id, t.result_val, t.result_unit, t.abn_flag, t.ref_range FROM lab_result t LEFT JOIN lab_test_code ltc ON ltc.local_cd = t.local_test_cd WHERE ltc.loinc_cd = ?1 AND t.collected_dttm >= ?2 AND t.pat_id = ?3 ORDER BY t.result_id LIMIT 21
-- args: 2345-7 | 2023-01-01 00:00:00 | 42

-- postgres
SELECT t.result_id, t.upd_ts, t.lab_accession, t.result_status, ltc.loinc_cd, ltc.loinc_display, t.local_test_cd, t.pat_id, t.visit_id, t.collected_dttm, t.performer_id, t.result_val, t.result_unit, t.abn_flag, t.ref_range FROM lab_result t LEFT JOIN lab_test_code ltc ON ltc.local_cd = t.local_test_cd WHERE ltc.loinc_cd = $1 AND t.collected_dttm >= $2 AND t.pat_id = $3 ORDER BY t.result_id LIMIT 21
-- args: 2345-7 | 2023-01-01 00:00:00 +0000 UTC | 42

-- sqlserver
SELECT TOP (21) t.result_id, t.upd_ts, t.lab_accession, t.result_status, ltc.loinc_cd, ltc.loinc_display, t.local_test_cd, t.pat_id, t.visit_id, t.collected_dttm, t.performer_id, t.result_val, t.result_unit, t.abn_flag, t.ref_range FROM lab_result t LEFT JOIN lab_test_code ltc ON ltc.local_cd = t.local_test_cd WHERE ltc.loinc_cd = @p1 AND t.collected_dttm >= @p2 AND t.pat_id = @p3 ORDER BY t.result_id
-- args: 2345-7 | 2023-01-01T00:00:00 | 42

-- mysql
SELECT t.result_id, t.upd_ts, t.lab_accession, t.result_status, ltc.loinc_cd, ltc.loinc_display, t.local_test_cd, t.pat_id, t.visit_id, t.collected_dttm, t.performer_id, t.result_val, t.result_unit, t.abn_flag, t.ref_range FROM lab_result t LEFT JOIN lab_test_code ltc ON ltc.local_cd = t.local_test_cd WHERE ltc.loinc_cd = ? AND t.collected_dttm >= ? AND t.pat_id = ? ORDER BY t.result_id LIMIT 21
-- args: 2345-7 | 2023-01-01 00:00:00 +0000 UTC | 42

