-- sqlite
SELECT t.visit_id, t.upd_ts, t.visit_status_cd, t.visit_type_cd, t.dept_cd, t.pat_id, t.attending_id, t.admit_dttm, t.disch_dttm, t.facility_id FROM visit t WHERE t.visit_type_cd = ?1 AND t.pat_id = ?2 ORDER BY t.visit_id LIMIT 21
-- args: IP | 7

-- postgres
SELECT t.visit_id, t.upd_ts, t.visit_status_cd, t.visit_type_cd, t.dept_cd, t.pat_id, t.attending_id, t.admit_dttm, t.disch_dttm, t.facility_id FROM visit t WHERE t.visit_type_cd = $1 AND t.pat_id = $2 ORDER BY t.visit_id LIMIT 21
-- args: IP | 7

-- sqlserver
SELECT TOP (21) t.visit_id, t.upd_ts, t.visit_status_cd, t.visit_type_cd, t.dept_cd, t.pat_id, t.attending_id, t.admit_dttm, t.disch_dttm, t.facility_id FROM visit t WHERE t.visit_type_cd = @p1 AND t.pat_id = @p2 ORDER BY t.visit_id
-- args: IP | 7

-- mysql
SELECT t.visit_id, t.upd_ts, t.visit_status_cd, t.visit_type_cd, t.dept_cd, t.pat_id, t.attending_id, t.admit_dttm, t.disch_dttm, t.facility_id FROM visit t WHERE t.visit_type_cd = ? AND t.pat_id = ? ORDER BY t.visit_id LIMIT 21
-- args: IP | 7

