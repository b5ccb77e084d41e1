-- sqlite
SELECT t.pat_id, t.upd_ts, t.mrn, t.last_nm, t.first_nm, t.middle_nm, t.phone_home, t.sex_cd, t.birth_dt, t.deceased_yn, t.deceased_dttm, t.addr_line1, t.city, t.state_cd, t.zip_cd FROM pat_master t WHERE (t.first_nm LIKE ?1 ESCAPE '\' OR t.middle_nm LIKE ?2 ESCAPE '\') ORDER BY t.pat_id LIMIT 21
-- args: %an\_\%% | %an\_\%%

-- postgres
SELECT t.pat_id, t.upd_ts, t.mrn, t.last_nm, t.first_nm, t.middle_nm, t.phone_home, t.sex_cd, t.birth_dt, t.deceased_yn, t.deceased_dttm, t.addr_line1, t.city, t.state_cd, t.zip_cd FROM pat_master t WHERE (lower(t.first_nm) LIKE $1 ESCAPE '\' OR lower(t.middle_nm) LIKE $2 ESCAPE '\') ORDER BY t.pat_id LIMIT 21
-- args: %an\_\%% | %an\_\%%

-- sqlserver
SELECT TOP (21) t.pat_id, t.upd_ts, t.mrn, t.last_nm, t.first_nm, t.middle_nm, t.phone_home, t.sex_cd, t.birth_dt, t.deceased_yn, t.deceased_dttm, t.addr_line1, t.city, t.state_cd, t.zip_cd FROM pat_master t WHERE (t.first_nm LIKE @p1 ESCAPE '\' OR t.middle_nm LIKE @p2 ESCAPE '\') ORDER BY t.pat_id
-- args: %an\_\%% | %an\_\%%

-- mysql
SELECT t.pat_id, t.upd_ts, t.mrn, t.last_nm, t.first_nm, t.middle_nm, t.phone_home, t.sex_cd, t.birth_dt, t.deceased_yn, t.deceased_dttm, t.addr_line1, t.city, t.state_cd, t.zip_cd FROM pat_master t WHERE (t.first_nm LIKE ? ESCAPE CHAR(92) OR t.middle_nm LIKE ? ESCAPE CHAR(92)) ORDER BY t.pat_id LIMIT 21
-- args: %an\_\%% | %an\_\%%

