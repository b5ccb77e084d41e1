-- sqlite
SELECT local_cd FROM lab_test_code WHERE loinc_cd = ?1
-- args: 1988-5

-- sqlite
INSERT INTO lab_result (abn_flag, collected_dttm, lab_accession, local_test_cd, pat_id, performer_id, ref_range, result_status, result_unit, result_val, visit_id, upd_ts) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) RETURNING result_id
-- args: N | 2024-01-05 07:30:00 | ACC7 | CRP | 42 | <nil> | <5.0 | F | mg/L | 5.40 | <nil> | 2026-01-15 12:00:00

-- sqlite
UPDATE lab_result SET abn_flag = ?1, collected_dttm = ?2, lab_accession = ?3, local_test_cd = ?4, pat_id = ?5, performer_id = ?6, ref_range = ?7, result_status = ?8, result_unit = ?9, result_val = ?10, visit_id = ?11, upd_ts = ?12 WHERE result_id = ?13 AND strftime('%Y-%m-%d %H:%M:%f', upd_ts) = strftime('%Y-%m-%d %H:%M:%f', ?14)
-- args: N | 2024-01-05 07:30:00 | ACC7 | CRP | 42 | <nil> | <5.0 | F | mg/L | 5.40 | <nil> | 2026-01-15 12:00:00 | 42 | 2024-07-02 09:00:00.123

-- sqlite
DELETE FROM lab_result WHERE result_id = ?1
-- args: 42

-- postgres
SELECT local_cd FROM lab_test_code WHERE loinc_cd = $1
-- args: 1988-5

-- postgres
INSERT INTO lab_result (abn_flag, collected_dttm, lab_accession, local_test_cd, pat_id, performer_id, ref_range, result_status, result_unit, result_val, visit_id, upd_ts) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING result_id
-- args: N | 2024-01-05 07:30:00 +0000 UTC | ACC7 | CRP | 42 | <nil> | <5.0 | F | mg/L | 5.40 | <nil> | 2026-01-15 12:00:00 +0000 UTC

-- postgres
UPDATE lab_result SET abn_flag = $1, collected_dttm = $2, lab_accession = $3, local_test_cd = $4, pat_id = $5, performer_id = $6, ref_range = $7, result_status = $8, result_unit = $9, result_val = $10, visit_id = $11, upd_ts = $12 WHERE result_id = $13 AND upd_ts = $14
-- args: N | 2024-01-05 07:30:00 +0000 UTC | ACC7 | CRP | 42 | <nil> | <5.0 | F | mg/L | 5.40 | <nil> | 2026-01-15 12:00:00 +0000 UTC | 42 | 2024-07-02 09:00:00.123 +0000 UTC

-- postgres
DELETE FROM lab_result WHERE result_id = $1
-- args: 42

-- sqlserver
SELECT local_cd FROM lab_test_code WHERE loinc_cd = @p1
-- args: 1988-5

-- sqlserver
INSERT INTO lab_result (abn_flag, collected_dttm, lab_accession, local_test_cd, pat_id, performer_id, ref_range, result_status, result_unit, result_val, visit_id, upd_ts) OUTPUT INSERTED.result_id VALUES (@p1, @p2, @p3, @p4, @p5, @p6, @p7, @p8, @p9, @p10, @p11, @p12)
-- args: N | 2024-01-05T07:30:00 | ACC7 | CRP | 42 | <nil> | <5.0 | F | mg/L | 5.40 | <nil> | 2026-01-15T12:00:00

-- sqlserver
UPDATE lab_result SET abn_flag = @p1, collected_dttm = @p2, lab_accession = @p3, local_test_cd = @p4, pat_id = @p5, performer_id = @p6, ref_range = @p7, result_status = @p8, result_unit = @p9, result_val = @p10, visit_id = @p11, upd_ts = @p12 WHERE result_id = @p13 AND upd_ts = @p14
-- args: N | 2024-01-05T07:30:00 | ACC7 | CRP | 42 | <nil> | <5.0 | F | mg/L | 5.40 | <nil> | 2026-01-15T12:00:00 | 42 | 2024-07-02T09:00:00.123000000

-- sqlserver
DELETE FROM lab_result WHERE result_id = @p1
-- args: 42

-- mysql
SELECT local_cd FROM lab_test_code WHERE loinc_cd = ?
-- args: 1988-5

-- mysql
INSERT INTO lab_result (abn_flag, collected_dttm, lab_accession, local_test_cd, pat_id, performer_id, ref_range, result_status, result_unit, result_val, visit_id, upd_ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING result_id
-- args: N | 2024-01-05 07:30:00 +0000 UTC | ACC7 | CRP | 42 | <nil> | <5.0 | F | mg/L | 5.40 | <nil> | 2026-01-15 12:00:00 +0000 UTC

-- mysql
UPDATE lab_result SET abn_flag = ?, collected_dttm = ?, lab_accession = ?, local_test_cd = ?, pat_id = ?, performer_id = ?, ref_range = ?, result_status = ?, result_unit = ?, result_val = ?, visit_id = ?, upd_ts = ? WHERE result_id = ? AND upd_ts = ?
-- args: N | 2024-01-05 07:30:00 +0000 UTC | ACC7 | CRP | 42 | <nil> | <5.0 | F | mg/L | 5.40 | <nil> | 2026-01-15 12:00:00 +0000 UTC | 42 | 2024-07-02 09:00:00.123 +0000 UTC

-- mysql
DELETE FROM lab_result WHERE result_id = ?
-- args: 42

