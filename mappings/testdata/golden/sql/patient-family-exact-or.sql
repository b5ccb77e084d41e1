-- sqlite
SELECT t.pat_id, t.upd_ts, t.mrn, t.last_nm, t.first_nm, t.middle_nm, t.phone_home, t.sex_cd, t.birth_dt, t.deceased_yn, t.deceased_dttm, t.addr_line1, t.city, t.state_cd, t.zip_cd FROM pat_master t WHERE (t.last_nm = ?1 OR t.last_nm = ?2) AND (t.sex_cd = ?3 OR t.sex_cd = ?4) ORDER BY t.pat_id LIMIT 21
-- args: Smith | O'Brien | F | O

-- postgres
SELECT t.pat_id, t.upd_ts, t.mrn, t.last_nm, t.first_nm, t.middle_nm, t.phone_home, t.sex_cd, t.birth_dt, t.deceased_yn, t.deceased_dttm, t.addr_line1, t.city, t.state_cd, t.zip_cd FROM pat_master t WHERE (t.last_nm = $1 OR t.last_nm = $2) AND (t.sex_cd = $3 OR t.sex_cd = $4) ORDER BY t.pat_id LIMIT 21
-- args: Smith | O'Brien | F | O

-- sqlserver
SELECT TOP (21) t.pat_id, t.upd_ts, t.mrn, t.last_nm, t.first_nm, t.middle_nm, t.phone_home, t.sex_cd, t.birth_dt, t.deceased_yn, t.deceased_dttm, t.addr_line1, t.city, t.state_cd, t.zip_cd FROM pat_master t WHERE (t.last_nm = @p1 COLLATE Latin1_General_100_CS_AS OR t.last_nm = @p2 COLLATE Latin1_General_100_CS_AS) AND (t.sex_cd = @p3 OR t.sex_cd = @p4) ORDER BY t.pat_id
-- args: Smith | O'Brien | F | O

-- mysql
SELECT t.pat_id, t.upd_ts, t.mrn, t.last_nm, t.first_nm, t.middle_nm, t.phone_home, t.sex_cd, t.birth_dt, t.deceased_yn, t.deceased_dttm, t.addr_line1, t.city, t.state_cd, t.zip_cd FROM pat_master t WHERE (t.last_nm = ? COLLATE utf8mb4_bin OR t.last_nm = ? COLLATE utf8mb4_bin) AND (t.sex_cd = ? OR t.sex_cd = ?) ORDER BY t.pat_id LIMIT 21
-- args: Smith | O'Brien | F | O

