-- sqlite
SELECT t.pat_id, t.upd_ts, t.mrn, t.last_nm, t.first_nm, t.middle_nm, t.phone_home, t.sex_cd, t.birth_dt, t.deceased_yn, t.deceased_dttm, t.addr_line1, t.city, t.state_cd, t.zip_cd FROM pat_master t WHERE (t.birth_dt < ?1 OR t.birth_dt IS NULL OR (t.birth_dt = ?2 AND (t.last_nm > ?3 OR t.last_nm IS NULL OR (t.last_nm = ?4 AND t.pat_id > ?5)))) ORDER BY t.birth_dt DESC NULLS LAST, t.last_nm NULLS LAST, t.pat_id LIMIT 21
-- args: 1961-02-28 | 1961-02-28 | O'Brien | O'Brien | 42

-- postgres
SELECT t.pat_id, t.upd_ts, t.mrn, t.last_nm, t.first_nm, t.middle_nm, t.phone_home, t.sex_cd, t.birth_dt, t.deceased_yn, t.deceased_dttm, t.addr_line1, t.city, t.state_cd, t.zip_cd FROM pat_master t WHERE (t.birth_dt < $1 OR t.birth_dt IS NULL OR (t.birth_dt = $2 AND (t.last_nm > $3 OR t.last_nm IS NULL OR (t.last_nm = $4 AND t.pat_id > $5)))) ORDER BY t.birth_dt DESC NULLS LAST, t.last_nm NULLS LAST, t.pat_id LIMIT 21
-- args: 1961-02-28 | 1961-02-28 | O'Brien | O'Brien | 42

-- sqlserver
SELECT TOP (21) t.pat_id, t.upd_ts, t.mrn, t.last_nm, t.first_nm, t.middle_nm, t.phone_home, t.sex_cd, t.birth_dt, t.deceased_yn, t.deceased_dttm, t.addr_line1, t.city, t.state_cd, t.zip_cd FROM pat_master t WHERE (t.birth_dt < @p1 OR t.birth_dt IS NULL OR (t.birth_dt = @p2 AND (t.last_nm > @p3 OR t.last_nm IS NULL OR (t.last_nm = @p4 AND t.pat_id > @p5)))) ORDER BY CASE WHEN t.birth_dt IS NULL THEN 1 ELSE 0 END, t.birth_dt DESC, CASE WHEN t.last_nm IS NULL THEN 1 ELSE 0 END, t.last_nm, t.pat_id
-- args: 1961-02-28 | 1961-02-28 | O'Brien | O'Brien | 42

-- mysql
SELECT t.pat_id, t.upd_ts, t.mrn, t.last_nm, t.first_nm, t.middle_nm, t.phone_home, t.sex_cd, t.birth_dt, t.deceased_yn, t.deceased_dttm, t.addr_line1, t.city, t.state_cd, t.zip_cd FROM pat_master t WHERE (t.birth_dt < ? OR t.birth_dt IS NULL OR (t.birth_dt = ? AND (t.last_nm > ? OR t.last_nm IS NULL OR (t.last_nm = ? AND t.pat_id > ?)))) ORDER BY CASE WHEN t.birth_dt IS NULL THEN 1 ELSE 0 END, t.birth_dt DESC, CASE WHEN t.last_nm IS NULL THEN 1 ELSE 0 END, t.last_nm, t.pat_id LIMIT 21
-- args: 1961-02-28 | 1961-02-28 | O'Brien | O'Brien | 42

