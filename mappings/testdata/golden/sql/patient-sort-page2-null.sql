-- sqlite
SELECT t.pat_id, t.upd_ts, t.mrn, t.last_nm, t.first_nm, t.middle_nm, t.phone_home, t.sex_cd, t.birth_dt, t.deceased_yn, t.deceased_dttm, t.addr_line1, t.city, t.state_cd, t.zip_cd FROM pat_master t WHERE (t.birth_dt IS NULL AND (t.last_nm > ?1 OR t.last_nm IS NULL OR (t.last_nm = ?2 AND t.pat_id > ?3))) ORDER BY t.birth_dt DESC NULLS LAST, t.last_nm NULLS LAST, t.pat_id LIMIT 21
-- args: Smith | Smith | 7

-- postgres
SELECT t.pat_id, t.upd_ts, t.mrn, t.last_nm, t.first_nm, t.middle_nm, t.phone_home, t.sex_cd, t.birth_dt, t.deceased_yn, t.deceased_dttm, t.addr_line1, t.city, t.state_cd, t.zip_cd FROM pat_master t WHERE (t.birth_dt IS NULL AND (t.last_nm > $1 OR t.last_nm IS NULL OR (t.last_nm = $2 AND t.pat_id > $3))) ORDER BY t.birth_dt DESC NULLS LAST, t.last_nm NULLS LAST, t.pat_id LIMIT 21
-- args: Smith | Smith | 7

-- sqlserver
SELECT TOP (21) t.pat_id, t.upd_ts, t.mrn, t.last_nm, t.first_nm, t.middle_nm, t.phone_home, t.sex_cd, t.birth_dt, t.deceased_yn, t.deceased_dttm, t.addr_line1, t.city, t.state_cd, t.zip_cd FROM pat_master t WHERE (t.birth_dt IS NULL AND (t.last_nm > @p1 OR t.last_nm IS NULL OR (t.last_nm = @p2 AND t.pat_id > @p3))) ORDER BY CASE WHEN t.birth_dt IS NULL THEN 1 ELSE 0 END, t.birth_dt DESC, CASE WHEN t.last_nm IS NULL THEN 1 ELSE 0 END, t.last_nm, t.pat_id
-- args: Smith | Smith | 7

-- mysql
SELECT t.pat_id, t.upd_ts, t.mrn, t.last_nm, t.first_nm, t.middle_nm, t.phone_home, t.sex_cd, t.birth_dt, t.deceased_yn, t.deceased_dttm, t.addr_line1, t.city, t.state_cd, t.zip_cd FROM pat_master t WHERE (t.birth_dt IS NULL AND (t.last_nm > ? OR t.last_nm IS NULL OR (t.last_nm = ? AND t.pat_id > ?))) ORDER BY CASE WHEN t.birth_dt IS NULL THEN 1 ELSE 0 END, t.birth_dt DESC, CASE WHEN t.last_nm IS NULL THEN 1 ELSE 0 END, t.last_nm, t.pat_id LIMIT 21
-- args: Smith | Smith | 7

