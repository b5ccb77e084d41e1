-- sqlite
SELECT t.facility_id, t.upd_ts, t.npi, t.alt_id_sys, t.alt_id, t.active_yn, t.org_type_cd, t.facility_nm, t.phone, t.email, t.addr_line1, t.city, t.state_cd, t.zip_cd, t.country_cd FROM facility t WHERE (t.addr_line1 LIKE ?1 ESCAPE '\' OR t.city LIKE ?2 ESCAPE '\' OR t.state_cd LIKE ?3 ESCAPE '\' OR t.zip_cd LIKE ?4 ESCAPE '\' OR t.country_cd LIKE ?5 ESCAPE '\') AND t.facility_nm LIKE ?6 ESCAPE '\' AND t.org_type_cd = ?7 ORDER BY t.facility_id LIMIT 21
-- args: IL% | IL% | IL% | IL% | IL% | spring% | PROV

-- postgres
SELECT t.facility_id, t.upd_ts, t.npi, t.alt_id_sys, t.alt_id, t.active_yn, t.org_type_cd, t.facility_nm, t.phone, t.email, t.addr_line1, t.city, t.state_cd, t.zip_cd, t.country_cd FROM facility t WHERE (lower(t.addr_line1) LIKE $1 ESCAPE '\' OR lower(t.city) LIKE $2 ESCAPE '\' OR lower(t.state_cd) LIKE $3 ESCAPE '\' OR lower(t.zip_cd) LIKE $4 ESCAPE '\' OR lower(t.country_cd) LIKE $5 ESCAPE '\') AND lower(t.facility_nm) LIKE $6 ESCAPE '\' AND t.org_type_cd = $7 ORDER BY t.facility_id LIMIT 21
-- args: il% | il% | il% | il% | il% | spring% | PROV

-- sqlserver
SELECT TOP (21) t.facility_id, t.upd_ts, t.npi, t.alt_id_sys, t.alt_id, t.active_yn, t.org_type_cd, t.facility_nm, t.phone, t.email, t.addr_line1, t.city, t.state_cd, t.zip_cd, t.country_cd FROM facility t WHERE (t.addr_line1 LIKE @p1 ESCAPE '\' OR t.city LIKE @p2 ESCAPE '\' OR t.state_cd LIKE @p3 ESCAPE '\' OR t.zip_cd LIKE @p4 ESCAPE '\' OR t.country_cd LIKE @p5 ESCAPE '\') AND t.facility_nm LIKE @p6 ESCAPE '\' AND t.org_type_cd = @p7 ORDER BY t.facility_id
-- args: IL% | IL% | IL% | IL% | IL% | spring% | PROV

-- mysql
SELECT t.facility_id, t.upd_ts, t.npi, t.alt_id_sys, t.alt_id, t.active_yn, t.org_type_cd, t.facility_nm, t.phone, t.email, t.addr_line1, t.city, t.state_cd, t.zip_cd, t.country_cd FROM facility t WHERE (t.addr_line1 LIKE ? ESCAPE CHAR(92) OR t.city LIKE ? ESCAPE CHAR(92) OR t.state_cd LIKE ? ESCAPE CHAR(92) OR t.zip_cd LIKE ? ESCAPE CHAR(92) OR t.country_cd LIKE ? ESCAPE CHAR(92)) AND t.facility_nm LIKE ? ESCAPE CHAR(92) AND t.org_type_cd = ? ORDER BY t.facility_id LIMIT 21
-- args: IL% | IL% | IL% | IL% | IL% | spring% | PROV

