-- sqlite
SELECT t.pat_id, t.upd_ts, t.mrn, t.last_nm, t.first_nm, t.middle_nm, t.phone_home, t.sex_cd, t.birth_dt, t.deceased_yn, t.deceased_dttm, t.addr_line1, t.city, t.state_cd, t.zip_cd FROM pat_master t WHERE t.upd_ts >= ?1 ORDER BY t.birth_dt DESC NULLS LAST, t.last_nm NULLS LAST, t.pat_id LIMIT 21
-- args: 2023-12-31 19:00:00

-- postgres
SELECT t.pat_id, t.upd_ts, t.mrn, t.last_nm, t.first_nm, t.middle_nm, t.phone_home, t.sex_cd, t.birth_dt, t.deceased_yn, t.deceased_dttm, t.addr_line1, t.city, t.state_cd, t.zip_cd FROM pat_master t WHERE t.upd_ts >= $1 ORDER BY t.birth_dt DESC NULLS LAST, t.last_nm NULLS LAST, t.pat_id LIMIT 21
-- args: 2023-12-31 19:00:00 +0000 UTC

-- sqlserver
SELECT TOP (21) t.pat_id, t.upd_ts, t.mrn, t.last_nm, t.first_nm, t.middle_nm, t.phone_home, t.sex_cd, t.birth_dt, t.deceased_yn, t.deceased_dttm, t.addr_line1, t.city, t.state_cd, t.zip_cd FROM pat_master t WHERE t.upd_ts >= @p1 ORDER BY CASE WHEN t.birth_dt IS NULL THEN 1 ELSE 0 END, t.birth_dt DESC, CASE WHEN t.last_nm IS NULL THEN 1 ELSE 0 END, t.last_nm, t.pat_id
-- args: 2023-12-31T19:00:00

-- mysql
SELECT t.pat_id, t.upd_ts, t.mrn, t.last_nm, t.first_nm, t.middle_nm, t.phone_home, t.sex_cd, t.birth_dt, t.deceased_yn, t.deceased_dttm, t.addr_line1, t.city, t.state_cd, t.zip_cd FROM pat_master t WHERE t.upd_ts >= ? ORDER BY CASE WHEN t.birth_dt IS NULL THEN 1 ELSE 0 END, t.birth_dt DESC, CASE WHEN t.last_nm IS NULL THEN 1 ELSE 0 END, t.last_nm, t.pat_id LIMIT 21
-- args: 2023-12-31 19:00:00 +0000 UTC

