-- sqlite
SELECT t.pat_id, t.upd_ts, t.mrn, t.last_nm, t.first_nm, t.middle_nm, t.phone_home, t.sex_cd, t.birth_dt, t.deceased_yn, t.deceased_dttm, t.addr_line1, t.city, t.state_cd, t.zip_cd FROM pat_master t WHERE (t.pat_id = ?1 OR t.pat_id = ?2 OR t.pat_id = ?3) AND (t.phone_home IS NULL) ORDER BY t.pat_id LIMIT 21
-- args: 1 | 2 | 3

-- postgres
SELECT t.pat_id, t.upd_ts, t.mrn, t.last_nm, t.first_nm, t.middle_nm, t.phone_home, t.sex_cd, t.birth_dt, t.deceased_yn, t.deceased_dttm, t.addr_line1, t.city, t.state_cd, t.zip_cd FROM pat_master t WHERE (t.pat_id = $1 OR t.pat_id = $2 OR t.pat_id = $3) AND (t.phone_home IS NULL) ORDER BY t.pat_id LIMIT 21
-- args: 1 | 2 | 3

-- sqlserver
SELECT TOP (21) t.pat_id, t.upd_ts, t.mrn, t.last_nm, t.first_nm, t.middle_nm, t.phone_home, t.sex_cd, t.birth_dt, t.deceased_yn, t.deceased_dttm, t.addr_line1, t.city, t.state_cd, t.zip_cd FROM pat_master t WHERE (t.pat_id = @p1 OR t.pat_id = @p2 OR t.pat_id = @p3) AND (t.phone_home IS NULL) ORDER BY t.pat_id
-- args: 1 | 2 | 3

-- mysql
SELECT t.pat_id, t.upd_ts, t.mrn, t.last_nm, t.first_nm, t.middle_nm, t.phone_home, t.sex_cd, t.birth_dt, t.deceased_yn, t.deceased_dttm, t.addr_line1, t.city, t.state_cd, t.zip_cd FROM pat_master t WHERE (t.pat_id = ? OR t.pat_id = ? OR t.pat_id = ?) AND (t.phone_home IS NULL) ORDER BY t.pat_id LIMIT 21
-- args: 1 | 2 | 3

