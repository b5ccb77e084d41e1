-- sqlite
SELECT t.pat_id, t.upd_ts, t.mrn, t.last_nm, t.first_nm, t.middle_nm, t.phone_home, t.sex_cd, t.birth_dt, t.deceased_yn, t.deceased_dttm, t.addr_line1, t.city, t.state_cd, t.zip_cd FROM pat_master t WHERE t.birth_dt >= ?1 AND t.birth_dt < ?2 AND (t.last_nm LIKE ?3 ESCAPE '\' OR t.first_nm LIKE ?4 ESCAPE '\' OR t.middle_nm LIKE ?5 ESCAPE '\') ORDER BY t.pat_id LIMIT 21
-- args: 1980-01-01 | 2001-01-01 | smi% | smi% | smi%

-- postgres
SELECT t.pat_id, t.upd_ts, t.mrn, t.last_nm, t.first_nm, t.middle_nm, t.phone_home, t.sex_cd, t.birth_dt, t.deceased_yn, t.deceased_dttm, t.addr_line1, t.city, t.state_cd, t.zip_cd FROM pat_master t WHERE t.birth_dt >= $1 AND t.birth_dt < $2 AND (lower(t.last_nm) LIKE $3 ESCAPE '\' OR lower(t.first_nm) LIKE $4 ESCAPE '\' OR lower(t.middle_nm) LIKE $5 ESCAPE '\') ORDER BY t.pat_id LIMIT 21
-- args: 1980-01-01 | 2001-01-01 | smi% | smi% | smi%

-- sqlserver
SELECT TOP (21) t.pat_id, t.upd_ts, t.mrn, t.last_nm, t.first_nm, t.middle_nm, t.phone_home, t.sex_cd, t.birth_dt, t.deceased_yn, t.deceased_dttm, t.addr_line1, t.city, t.state_cd, t.zip_cd FROM pat_master t WHERE t.birth_dt >= @p1 AND t.birth_dt < @p2 AND (t.last_nm LIKE @p3 ESCAPE '\' OR t.first_nm LIKE @p4 ESCAPE '\' OR t.middle_nm LIKE @p5 ESCAPE '\') ORDER BY t.pat_id
-- args: 1980-01-01 | 2001-01-01 | smi% | smi% | smi%

-- mysql
SELECT t.pat_id, t.upd_ts, t.mrn, t.last_nm, t.first_nm, t.middle_nm, t.phone_home, t.sex_cd, t.birth_dt, t.deceased_yn, t.deceased_dttm, t.addr_line1, t.city, t.state_cd, t.zip_cd FROM pat_master t WHERE t.birth_dt >= ? AND t.birth_dt < ? AND (t.last_nm LIKE ? ESCAPE CHAR(92) OR t.first_nm LIKE ? ESCAPE CHAR(92) OR t.middle_nm LIKE ? ESCAPE CHAR(92)) ORDER BY t.pat_id LIMIT 21
-- args: 1980-01-01 | 2001-01-01 | smi% | smi% | smi%

