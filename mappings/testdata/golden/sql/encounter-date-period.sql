-- sqlite
SELECT t.visit_id, t.upd_ts, t.visit_status_cd, t.visit_type_cd, t.dept_cd, t.pat_id, t.attending_id, t.admit_dttm, t.disch_dttm, t.facility_id FROM visit t WHERE ((t.disch_dttm IS NULL AND t.admit_dttm IS NOT NULL) OR t.disch_dttm >= ?1) AND ((t.admit_dttm IS NULL AND t.disch_dttm IS NOT NULL) OR t.admit_dttm < ?2) AND t.pat_id = ?3 AND t.visit_status_cd = ?4 ORDER BY t.visit_id LIMIT 21
-- args: 2024-03-01 00:00:00 | 2024-07-01 00:00:00 | 7 | D

-- postgres
SELECT t.visit_id, t.upd_ts, t.visit_status_cd, t.visit_type_cd, t.dept_cd, t.pat_id, t.attending_id, t.admit_dttm, t.disch_dttm, t.facility_id FROM visit t WHERE ((t.disch_dttm IS NULL AND t.admit_dttm IS NOT NULL) OR t.disch_dttm >= $1) AND ((t.admit_dttm IS NULL AND t.disch_dttm IS NOT NULL) OR t.admit_dttm < $2) AND t.pat_id = $3 AND t.visit_status_cd = $4 ORDER BY t.visit_id LIMIT 21
-- args: 2024-03-01 00:00:00 +0000 UTC | 2024-07-01 00:00:00 +0000 UTC | 7 | D

-- sqlserver
SELECT TOP (21) t.visit_id, t.upd_ts, t.visit_status_cd, t.visit_type_cd, t.dept_cd, t.pat_id, t.attending_id, t.admit_dttm, t.disch_dttm, t.facility_id FROM visit t WHERE ((t.disch_dttm IS NULL AND t.admit_dttm IS NOT NULL) OR t.disch_dttm >= @p1) AND ((t.admit_dttm IS NULL AND t.disch_dttm IS NOT NULL) OR t.admit_dttm < @p2) AND t.pat_id = @p3 AND t.visit_status_cd = @p4 ORDER BY t.visit_id
-- args: 2024-03-01T00:00:00 | 2024-07-01T00:00:00 | 7 | D

-- mysql
SELECT t.visit_id, t.upd_ts, t.visit_status_cd, t.visit_type_cd, t.dept_cd, t.pat_id, t.attending_id, t.admit_dttm, t.disch_dttm, t.facility_id FROM visit t WHERE ((t.disch_dttm IS NULL AND t.admit_dttm IS NOT NULL) OR t.disch_dttm >= ?) AND ((t.admit_dttm IS NULL AND t.disch_dttm IS NOT NULL) OR t.admit_dttm < ?) AND t.pat_id = ? AND t.visit_status_cd = ? ORDER BY t.visit_id LIMIT 21
-- args: 2024-03-01 00:00:00 +0000 UTC | 2024-07-01 00:00:00 +0000 UTC | 7 | D

