-- sqlite
SELECT t.visit_id, t.upd_ts, t.visit_status_cd, t.visit_type_cd, t.dept_cd, t.pat_id, t.attending_id, t.admit_dttm, t.disch_dttm, t.facility_id FROM visit t WHERE t.dept_cd = ?1 AND t.attending_id = ?2 AND t.facility_id = ?3 ORDER BY t.visit_id LIMIT 21
-- args: CARD | DR0003 | 1

-- postgres
SELECT t.visit_id, t.upd_ts, t.visit_status_cd, t.visit_type_cd, t.dept_cd, t.pat_id, t.attending_id, t.admit_dttm, t.disch_dttm, t.facility_id FROM visit t WHERE t.dept_cd = $1 AND t.attending_id = $2 AND t.facility_id = $3 ORDER BY t.visit_id LIMIT 21
-- args: CARD | DR0003 | 1

-- sqlserver
SELECT TOP (21) t.visit_id, t.upd_ts, t.visit_status_cd, t.visit_type_cd, t.dept_cd, t.pat_id, t.attending_id, t.admit_dttm, t.disch_dttm, t.facility_id FROM visit t WHERE t.dept_cd = @p1 AND t.attending_id = @p2 AND t.facility_id = @p3 ORDER BY t.visit_id
-- args: CARD | DR0003 | 1

-- mysql
SELECT t.visit_id, t.upd_ts, t.visit_status_cd, t.visit_type_cd, t.dept_cd, t.pat_id, t.attending_id, t.admit_dttm, t.disch_dttm, t.facility_id FROM visit t WHERE t.dept_cd = ? AND t.attending_id = ? AND t.facility_id = ? ORDER BY t.visit_id LIMIT 21
-- args: CARD | DR0003 | 1

