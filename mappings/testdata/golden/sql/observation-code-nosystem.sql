-- sqlite
SELECT t.result_id, t.upd_ts, t.lab_accession, t.result_status, ltc.loinc_cd, ltc.loinc_display, t.local_test_cd, t.pat_id, t.visit_id, t.collected_dttm, t.performer_id, t.result_val, t.result_unit, t.abn_flag, t.ref_range FROM lab_result t LEFT JOIN lab_test_code ltc ON ltc.local_cd = t.local_test_cd WHERE 1=1 AND ((ltc.loinc_cd = ?1 OR t.local_test_cd = ?2) OR (ltc.loinc_cd = ?3 OR t.local_test_cd = ?4)) AND (t.result_status = ?5 OR t.result_status = ?6) ORDER BY t.result_id LIMIT 21
-- args: 2345-7 | 2345-7 | GLU | GLU | F | C

-- postgres
SELECT t.result_id, t.upd_ts, t.lab_accession, t.result_status, ltc.loinc_cd, ltc.loinc_display, t.local_test_cd, t.pat_id, t.visit_id, t.collected_dttm, t.performer_id, t.result_val, t.result_unit, t.abn_flag, t.ref_range FROM lab_result t LEFT JOIN lab_test_code ltc ON ltc.local_cd = t.local_test_cd WHERE 1=1 AND ((ltc.loinc_cd = $1 OR t.local_test_cd = $2) OR (ltc.loinc_cd = $3 OR t.local_test_cd = $4)) AND (t.result_status = $5 OR t.result_status = $6) ORDER BY t.result_id LIMIT 21
-- args: 2345-7 | 2345-7 | GLU | GLU | F | C

-- sqlserver
SELECT TOP (21) t.result_id, t.upd_ts, t.lab_accession, t.result_status, ltc.loinc_cd, ltc.loinc_display, t.local_test_cd, t.pat_id, t.visit_id, t.collected_dttm, t.performer_id, t.result_val, t.result_unit, t.abn_flag, t.ref_range FROM lab_result t LEFT JOIN lab_test_code ltc ON ltc.local_cd = t.local_test_cd WHERE 1=1 AND ((ltc.loinc_cd = @p1 OR t.local_test_cd = @p2) OR (ltc.loinc_cd = @p3 OR t.local_test_cd = @p4)) AND (t.result_status = @p5 OR t.result_status = @p6) ORDER BY t.result_id
-- args: 2345-7 | 2345-7 | GLU | GLU | F | C

-- mysql
SELECT t.result_id, t.upd_ts, t.lab_accession, t.result_status, ltc.loinc_cd, ltc.loinc_display, t.local_test_cd, t.pat_id, t.visit_id, t.collected_dttm, t.performer_id, t.result_val, t.result_unit, t.abn_flag, t.ref_range FROM lab_result t LEFT JOIN lab_test_code ltc ON ltc.local_cd = t.local_test_cd WHERE 1=1 AND ((ltc.loinc_cd = ? OR t.local_test_cd = ?) OR (ltc.loinc_cd = ? OR t.local_test_cd = ?)) AND (t.result_status = ? OR t.result_status = ?) ORDER BY t.result_id LIMIT 21
-- args: 2345-7 | 2345-7 | GLU | GLU | F | C

