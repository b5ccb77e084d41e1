-- sqlite
SELECT t.result_id, t.upd_ts, t.lab_accession, t.result_status, ltc.loinc_cd, ltc.loinc_display, t.local_test_cd, t.pat_id, t.visit_id, t.collected_dttm, t.performer_id, t.result_val, t.result_unit, t.abn_flag, t.ref_range FROM lab_result t LEFT JOIN lab_test_code ltc ON ltc.local_cd = t.local_test_cd WHERE t.pat_id = ?1 AND (t.collected_dttm > ?2 OR t.collected_dttm IS NULL OR (t.collected_dttm = ?3 AND t.result_id > ?4)) ORDER BY t.collected_dttm NULLS LAST, t.result_id LIMIT 21
-- args: 42 | 2024-01-05 07:30:00 | 2024-01-05 07:30:00 | 7

-- postgres
SELECT t.result_id, t.upd_ts, t.lab_accession, t.result_status, ltc.loinc_cd, ltc.loinc_display, t.local_test_cd, t.pat_id, t.visit_id, t.collected_dttm, t.performer_id, t.result_val, t.result_unit, t.abn_flag, t.ref_range FROM lab_result t LEFT JOIN lab_test_code ltc ON ltc.local_cd = t.local_test_cd WHERE t.pat_id = $1 AND (t.collected_dttm > $2 OR t.collected_dttm IS NULL OR (t.collected_dttm = $3 AND t.result_id > $4)) ORDER BY t.collected_dttm NULLS LAST, t.result_id LIMIT 21
-- args: 42 | 2024-01-05 07:30:00 +0000 UTC | 2024-01-05 07:30:00 +0000 UTC | 7

-- sqlserver
SELECT TOP (21) t.result_id, t.upd_ts, t.lab_accession, t.result_status, ltc.loinc_cd, ltc.loinc_display, t.local_test_cd, t.pat_id, t.visit_id, t.collected_dttm, t.performer_id, t.result_val, t.result_unit, t.abn_flag, t.ref_range FROM lab_result t LEFT JOIN lab_test_code ltc ON ltc.local_cd = t.local_test_cd WHERE t.pat_id = @p1 AND (t.collected_dttm > @p2 OR t.collected_dttm IS NULL OR (t.collected_dttm = @p3 AND t.result_id > @p4)) ORDER BY CASE WHEN t.collected_dttm IS NULL THEN 1 ELSE 0 END, t.collected_dttm, t.result_id
-- args: 42 | 2024-01-05T07:30:00 | 2024-01-05T07:30:00 | 7

-- mysql
SELECT t.result_id, t.upd_ts, t.lab_accession, t.result_status, ltc.loinc_cd, ltc.loinc_display, t.local_test_cd, t.pat_id, t.visit_id, t.collected_dttm, t.performer_id, t.result_val, t.result_unit, t.abn_flag, t.ref_range FROM lab_result t LEFT JOIN lab_test_code ltc ON ltc.local_cd = t.local_test_cd WHERE t.pat_id = ? AND (t.collected_dttm > ? OR t.collected_dttm IS NULL OR (t.collected_dttm = ? AND t.result_id > ?)) ORDER BY CASE WHEN t.collected_dttm IS NULL THEN 1 ELSE 0 END, t.collected_dttm, t.result_id LIMIT 21
-- args: 42 | 2024-01-05 07:30:00 +0000 UTC | 2024-01-05 07:30:00 +0000 UTC | 7

