-- sqlite
INSERT INTO pat_master (addr_line1, birth_dt, city, deceased_dttm, deceased_yn, first_nm, last_nm, middle_nm, mrn, phone_home, sex_cd, state_cd, zip_cd, upd_ts) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) RETURNING pat_id
-- args: 12 Main St | 1961-02-28 | Salem | 2024-07-01 14:30:00 | Y | Zoë | O'Brien | <nil> | MRN00000042 | <nil> | F | OR | 97301 | 2026-01-15 12:00:00

-- sqlite
UPDATE pat_master SET addr_line1 = ?1, birth_dt = ?2, city = ?3, deceased_dttm = ?4, deceased_yn = ?5, first_nm = ?6, last_nm = ?7, middle_nm = ?8, mrn = ?9, phone_home = ?10, sex_cd = ?11, state_cd = ?12, zip_cd = ?13, upd_ts = ?14 WHERE pat_id = ?15 AND strftime('%Y-%m-%d %H:%M:%f', upd_ts) = strftime('%Y-%m-%d %H:%M:%f', ?16)
-- args: 12 Main St | 1961-02-28 | Salem | 2024-07-01 14:30:00 | Y | Zoë | O'Brien | <nil> | MRN00000042 | <nil> | F | OR | 97301 | 2026-01-15 12:00:00 | 42 | 2024-07-02 09:00:00.123

-- sqlite
DELETE FROM pat_master WHERE pat_id = ?1
-- args: 42

-- postgres
INSERT INTO pat_master (addr_line1, birth_dt, city, deceased_dttm, deceased_yn, first_nm, last_nm, middle_nm, mrn, phone_home, sex_cd, state_cd, zip_cd, upd_ts) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING pat_id
-- args: 12 Main St | 1961-02-28 | Salem | 2024-07-01 14:30:00 +0000 UTC | Y | Zoë | O'Brien | <nil> | MRN00000042 | <nil> | F | OR | 97301 | 2026-01-15 12:00:00 +0000 UTC

-- postgres
UPDATE pat_master SET addr_line1 = $1, birth_dt = $2, city = $3, deceased_dttm = $4, deceased_yn = $5, first_nm = $6, last_nm = $7, middle_nm = $8, mrn = $9, phone_home = $10, sex_cd = $11, state_cd = $12, zip_cd = $13, upd_ts = $14 WHERE pat_id = $15 AND upd_ts = $16
-- args: 12 Main St | 1961-02-28 | Salem | 2024-07-01 14:30:00 +0000 UTC | Y | Zoë | O'Brien | <nil> | MRN00000042 | <nil> | F | OR | 97301 | 2026-01-15 12:00:00 +0000 UTC | 42 | 2024-07-02 09:00:00.123 +0000 UTC

-- postgres
DELETE FROM pat_master WHERE pat_id = $1
-- args: 42

-- sqlserver
INSERT INTO pat_master (addr_line1, birth_dt, city, deceased_dttm, deceased_yn, first_nm, last_nm, middle_nm, mrn, phone_home, sex_cd, state_cd, zip_cd, upd_ts) OUTPUT INSERTED.pat_id VALUES (@p1, @p2, @p3, @p4, @p5, @p6, @p7, @p8, @p9, @p10, @p11, @p12, @p13, @p14)
-- args: 12 Main St | 1961-02-28 | Salem | 2024-07-01T14:30:00 | Y | Zoë | O'Brien | <nil> | MRN00000042 | <nil> | F | OR | 97301 | 2026-01-15T12:00:00

-- sqlserver
UPDATE pat_master SET addr_line1 = @p1, birth_dt = @p2, city = @p3, deceased_dttm = @p4, deceased_yn = @p5, first_nm = @p6, last_nm = @p7, middle_nm = @p8, mrn = @p9, phone_home = @p10, sex_cd = @p11, state_cd = @p12, zip_cd = @p13, upd_ts = @p14 WHERE pat_id = @p15 AND upd_ts = @p16
-- args: 12 Main St | 1961-02-28 | Salem | 2024-07-01T14:30:00 | Y | Zoë | O'Brien | <nil> | MRN00000042 | <nil> | F | OR | 97301 | 2026-01-15T12:00:00 | 42 | 2024-07-02T09:00:00.123000000

-- sqlserver
DELETE FROM pat_master WHERE pat_id = @p1
-- args: 42

-- mysql
INSERT INTO pat_master (addr_line1, birth_dt, city, deceased_dttm, deceased_yn, first_nm, last_nm, middle_nm, mrn, phone_home, sex_cd, state_cd, zip_cd, upd_ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING pat_id
-- args: 12 Main St | 1961-02-28 | Salem | 2024-07-01 14:30:00 +0000 UTC | Y | Zoë | O'Brien | <nil> | MRN00000042 | <nil> | F | OR | 97301 | 2026-01-15 12:00:00 +0000 UTC

-- mysql
UPDATE pat_master SET addr_line1 = ?, birth_dt = ?, city = ?, deceased_dttm = ?, deceased_yn = ?, first_nm = ?, last_nm = ?, middle_nm = ?, mrn = ?, phone_home = ?, sex_cd = ?, state_cd = ?, zip_cd = ?, upd_ts = ? WHERE pat_id = ? AND upd_ts = ?
-- args: 12 Main St | 1961-02-28 | Salem | 2024-07-01 14:30:00 +0000 UTC | Y | Zoë | O'Brien | <nil> | MRN00000042 | <nil> | F | OR | 97301 | 2026-01-15 12:00:00 +0000 UTC | 42 | 2024-07-02 09:00:00.123 +0000 UTC

-- mysql
DELETE FROM pat_master WHERE pat_id = ?
-- args: 42

