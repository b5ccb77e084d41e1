-- sqlite
SELECT t.facility_id, t.upd_ts, t.npi, t.alt_id_sys, t.alt_id, t.active_yn, t.org_type_cd, t.facility_nm, t.phone, t.email, t.addr_line1, t.city, t.state_cd, t.zip_cd, t.country_cd FROM facility t WHERE ((t.alt_id_sys = ?1 AND t.alt_id = ?2) OR (t.alt_id_sys = ?3 AND t.alt_id = ?4) OR (t.npi = ?5 OR t.alt_id = ?6) OR (t.alt_id_sys IS NULL AND t.alt_id = ?7) OR (t.alt_id_sys = ?8 AND t.alt_id IS NOT NULL)) ORDER BY t.facility_id LIMIT 21
-- args: urn:oid:2.16.840.1.113883.4.7 | 05D0000001 | https://www.naic.org | 12345 | ABC | ABC | NOSYS | urn:oid:2.16.840.1.113883.4.7

-- postgres
SELECT t.facility_id, t.upd_ts, t.npi, t.alt_id_sys, t.alt_id, t.active_yn, t.org_type_cd, t.facility_nm, t.phone, t.email, t.addr_line1, t.city, t.state_cd, t.zip_cd, t.country_cd FROM facility t WHERE ((t.alt_id_sys = $1 AND t.alt_id = $2) OR (t.alt_id_sys = $3 AND t.alt_id = $4) OR (t.npi = $5 OR t.alt_id = $6) OR (t.alt_id_sys IS NULL AND t.alt_id = $7) OR (t.alt_id_sys = $8 AND t.alt_id IS NOT NULL)) ORDER BY t.facility_id LIMIT 21
-- args: urn:oid:2.16.840.1.113883.4.7 | 05D0000001 | https://www.naic.org | 12345 | ABC | ABC | NOSYS | urn:oid:2.16.840.1.113883.4.7

-- sqlserver
SELECT TOP (21) t.facility_id, t.upd_ts, t.npi, t.alt_id_sys, t.alt_id, t.active_yn, t.org_type_cd, t.facility_nm, t.phone, t.email, t.addr_line1, t.city, t.state_cd, t.zip_cd, t.country_cd FROM facility t WHERE ((t.alt_id_sys = @p1 AND t.alt_id = @p2) OR (t.alt_id_sys = @p3 AND t.alt_id = @p4) OR (t.npi = @p5 OR t.alt_id = @p6) OR (t.alt_id_sys IS NULL AND t.alt_id = @p7) OR (t.alt_id_sys = @p8 AND t.alt_id IS NOT NULL)) ORDER BY t.facility_id
-- args: urn:oid:2.16.840.1.113883.4.7 | 05D0000001 | https://www.naic.org | 12345 | ABC | ABC | NOSYS | urn:oid:2.16.840.1.113883.4.7

-- mysql
SELECT t.facility_id, t.upd_ts, t.npi, t.alt_id_sys, t.alt_id, t.active_yn, t.org_type_cd, t.facility_nm, t.phone, t.email, t.addr_line1, t.city, t.state_cd, t.zip_cd, t.country_cd FROM facility t WHERE ((t.alt_id_sys = ? AND t.alt_id = ?) OR (t.alt_id_sys = ? AND t.alt_id = ?) OR (t.npi = ? OR t.alt_id = ?) OR (t.alt_id_sys IS NULL AND t.alt_id = ?) OR (t.alt_id_sys = ? AND t.alt_id IS NOT NULL)) ORDER BY t.facility_id LIMIT 21
-- args: urn:oid:2.16.840.1.113883.4.7 | 05D0000001 | https://www.naic.org | 12345 | ABC | ABC | NOSYS | urn:oid:2.16.840.1.113883.4.7

