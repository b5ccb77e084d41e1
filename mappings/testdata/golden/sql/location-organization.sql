-- sqlite
SELECT t.dept_cd, t.upd_ts, t.npi, t.status_cd, t.dept_nm, t.loc_type_cd, t.phone, t.addr_line1, t.city, t.state_cd, t.zip_cd, t.country_cd, t.facility_id, fac.facility_nm FROM dept t LEFT JOIN facility fac ON fac.facility_id = t.facility_id WHERE t.city LIKE ?1 ESCAPE '\' AND t.facility_id = ?2 AND t.status_cd = ?3 ORDER BY t.dept_nm NULLS LAST, t.dept_cd LIMIT 21
-- args: spr% | 1 | A

-- postgres
SELECT t.dept_cd, t.upd_ts, t.npi, t.status_cd, t.dept_nm, t.loc_type_cd, t.phone, t.addr_line1, t.city, t.state_cd, t.zip_cd, t.country_cd, t.facility_id, fac.facility_nm FROM dept t LEFT JOIN facility fac ON fac.facility_id = t.facility_id WHERE lower(t.city) LIKE $1 ESCAPE '\' AND t.facility_id = $2 AND t.status_cd = $3 ORDER BY t.dept_nm NULLS LAST, t.dept_cd LIMIT 21
-- args: spr% | 1 | A

-- sqlserver
SELECT TOP (21) t.dept_cd, t.upd_ts, t.npi, t.status_cd, t.dept_nm, t.loc_type_cd, t.phone, t.addr_line1, t.city, t.state_cd, t.zip_cd, t.country_cd, t.facility_id, fac.facility_nm FROM dept t LEFT JOIN facility fac ON fac.facility_id = t.facility_id WHERE t.city LIKE @p1 ESCAPE '\' AND t.facility_id = @p2 AND t.status_cd = @p3 ORDER BY CASE WHEN t.dept_nm IS NULL THEN 1 ELSE 0 END, t.dept_nm, t.dept_cd
-- args: spr% | 1 | A

-- mysql
SELECT t.dept_cd, t.upd_ts, t.npi, t.status_cd, t.dept_nm, t.loc_type_cd, t.phone, t.addr_line1, t.city, t.state_cd, t.zip_cd, t.country_cd, t.facility_id, fac.facility_nm FROM dept t LEFT JOIN facility fac ON fac.facility_id = t.facility_id WHERE t.city LIKE ? ESCAPE CHAR(92) AND t.facility_id = ? AND t.status_cd = ? ORDER BY CASE WHEN t.dept_nm IS NULL THEN 1 ELSE 0 END, t.dept_nm, t.dept_cd LIMIT 21
-- args: spr% | 1 | A

