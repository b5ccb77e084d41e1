-- sqlite
SELECT t.provider_id, t.upd_ts, t.npi, t.alt_id_sys, t.alt_id, t.active_yn, t.last_nm, t.first_nm, t.name_prefix, t.name_suffix, t.phone, t.email, t.direct_yn, t.addr_line1, t.city, t.state_cd, t.zip_cd, t.specialty_cd FROM provider t WHERE t.active_yn = ?1 AND t.npi = ?2 AND (t.last_nm LIKE ?3 ESCAPE '\' OR t.first_nm LIKE ?4 ESCAPE '\') ORDER BY t.provider_id LIMIT 21
-- args: Y | 1179269190 | smi% | smi%

-- postgres
SELECT t.provider_id, t.upd_ts, t.npi, t.alt_id_sys, t.alt_id, t.active_yn, t.last_nm, t.first_nm, t.name_prefix, t.name_suffix, t.phone, t.email, t.direct_yn, t.addr_line1, t.city, t.state_cd, t.zip_cd, t.specialty_cd FROM provider t WHERE t.active_yn = $1 AND t.npi = $2 AND (lower(t.last_nm) LIKE $3 ESCAPE '\' OR lower(t.first_nm) LIKE $4 ESCAPE '\') ORDER BY t.provider_id LIMIT 21
-- args: Y | 1179269190 | smi% | smi%

-- sqlserver
SELECT TOP (21) t.provider_id, t.upd_ts, t.npi, t.alt_id_sys, t.alt_id, t.active_yn, t.last_nm, t.first_nm, t.name_prefix, t.name_suffix, t.phone, t.email, t.direct_yn, t.addr_line1, t.city, t.state_cd, t.zip_cd, t.specialty_cd FROM provider t WHERE t.active_yn = @p1 AND t.npi = @p2 AND (t.last_nm LIKE @p3 ESCAPE '\' OR t.first_nm LIKE @p4 ESCAPE '\') ORDER BY t.provider_id
-- args: Y | 1179269190 | smi% | smi%

-- mysql
SELECT t.provider_id, t.upd_ts, t.npi, t.alt_id_sys, t.alt_id, t.active_yn, t.last_nm, t.first_nm, t.name_prefix, t.name_suffix, t.phone, t.email, t.direct_yn, t.addr_line1, t.city, t.state_cd, t.zip_cd, t.specialty_cd FROM provider t WHERE t.active_yn = ? AND t.npi = ? AND (t.last_nm LIKE ? ESCAPE CHAR(92) OR t.first_nm LIKE ? ESCAPE CHAR(92)) ORDER BY t.provider_id LIMIT 21
-- args: Y | 1179269190 | smi% | smi%

