-- sqlite
SELECT t.result_id, t.upd_ts, t.lab_accession, t.result_status, ltc.loinc_cd, ltc.loinc_display, t.local_test_cd, t.pat_id, t.visit_id, t.collected_dttm, t.performer_id, t.result_val, t.result_unit, t.abn_flag, t.ref_range FROM lab_result t LEFT JOIN lab_test_code ltc ON ltc.local_cd = t.local_test_cd WHERE (CASE WHEN t.collected_dttm >= ?1 AND t.collected_dttm < ?2 THEN 1 ELSE 0 END = 0) AND t.collected_dttm IS NOT NULL AND t.collected_dttm >= ?3 AND (t.collected_dttm < ?4 AND t.collected_dttm >= ?5) ORDER BY t.result_id LIMIT 21
-- args: 2024-01-01 00:00:00 | 2024-01-02 00:00:00 | 2020-05-05 06:00:01 | 2024-07-31 08:00:00 | 2024-04-02 16:00:00

-- postgres
SELECT t.result_id, t.upd_ts, t.lab_accession, t.result_status, ltc.loinc_cd, ltc.loinc_display, t.local_test_cd, t.pat_id, t.visit_id, t.collected_dttm, t.performer_id, t.result_val, t.result_unit, t.abn_flag, t.ref_range FROM lab_result t LEFT JOIN lab_test_code ltc ON ltc.local_cd = t.local_test_cd WHERE (CASE WHEN t.collected_dttm >= $1 AND t.collected_dttm < $2 THEN 1 ELSE 0 END = 0) AND t.collected_dttm IS NOT NULL AND t.collected_dttm >= $3 AND (t.collected_dttm < $4 AND t.collected_dttm >= $5) ORDER BY t.result_id LIMIT 21
-- args: 2024-01-01 00:00:00 +0000 UTC | 2024-01-02 00:00:00 +0000 UTC | 2020-05-05 06:00:01 +0000 UTC | 2024-07-31 08:00:00 +0000 UTC | 2024-04-02 16:00:00 +0000 UTC

-- sqlserver
SELECT TOP (21) t.result_id, t.upd_ts, t.lab_accession, t.result_status, ltc.loinc_cd, ltc.loinc_display, t.local_test_cd, t.pat_id, t.visit_id, t.collected_dttm, t.performer_id, t.result_val, t.result_unit, t.abn_flag, t.ref_range FROM lab_result t LEFT JOIN lab_test_code ltc ON ltc.local_cd = t.local_test_cd WHERE (CASE WHEN t.collected_dttm >= @p1 AND t.collected_dttm < @p2 THEN 1 ELSE 0 END = 0) AND t.collected_dttm IS NOT NULL AND t.collected_dttm >= @p3 AND (t.collected_dttm < @p4 AND t.collected_dttm >= @p5) ORDER BY t.result_id
-- args: 2024-01-01T00:00:00 | 2024-01-02T00:00:00 | 2020-05-05T06:00:01 | 2024-07-31T08:00:00 | 2024-04-02T16:00:00

-- mysql
SELECT t.result_id, t.upd_ts, t.lab_accession, t.result_status, ltc.loinc_cd, ltc.loinc_display, t.local_test_cd, t.pat_id, t.visit_id, t.collected_dttm, t.performer_id, t.result_val, t.result_unit, t.abn_flag, t.ref_range FROM lab_result t LEFT JOIN lab_test_code ltc ON ltc.local_cd = t.local_test_cd WHERE (CASE WHEN t.collected_dttm >= ? AND t.collected_dttm < ? THEN 1 ELSE 0 END = 0) AND t.collected_dttm IS NOT NULL AND t.collected_dttm >= ? AND (t.collected_dttm < ? AND t.collected_dttm >= ?) ORDER BY t.result_id LIMIT 21
-- args: 2024-01-01 00:00:00 +0000 UTC | 2024-01-02 00:00:00 +0000 UTC | 2020-05-05 06:00:01 +0000 UTC | 2024-07-31 08:00:00 +0000 UTC | 2024-04-02 16:00:00 +0000 UTC

