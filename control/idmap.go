package control

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The id map (table id_map): the legacy id of each resource created on the
// FHIR server while its type was on `fhir`, reserved before the legacy
// insert and completed after it (package idmap caches and uses it).

// IDPair is a completed pair.
type IDPair struct {
	Type, FHIRID, LegacyID string
}

// IDPairs lists every completed pair.
func (s *Store) IDPairs(ctx context.Context) ([]IDPair, error) {
	rows, err := s.DB.QueryContext(ctx, "SELECT resource_type, fhir_id, legacy_id FROM id_map WHERE legacy_id IS NOT NULL")
	if err != nil {
		return nil, fmt.Errorf("control: id map: %w", err)
	}
	defer rows.Close()
	var out []IDPair
	for rows.Next() {
		var p IDPair
		if err := rows.Scan(&p.Type, &p.FHIRID, &p.LegacyID); err != nil {
			return nil, fmt.Errorf("control: id map: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// LookupID is the legacy id paired with a FHIR id: found false when there
// is no row, pending when it is reserved but not completed.
func (s *Store) LookupID(ctx context.Context, typ, fhirID string) (legacyID string, pending, found bool, err error) {
	var l sql.NullString
	err = s.DB.QueryRowContext(ctx, fmt.Sprintf("SELECT legacy_id FROM id_map WHERE resource_type = %s AND fhir_id = %s", s.ph(1), s.ph(2)), typ, fhirID).Scan(&l)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, false, nil
	}
	if err != nil {
		return "", false, false, fmt.Errorf("control: id map: %w", err)
	}
	return l.String, !l.Valid, true, nil
}

// ReserveID records that fhirID is about to get a legacy row; reserved is
// false when a row for it already exists (an earlier attempt).
func (s *Store) ReserveID(ctx context.Context, typ, fhirID string, at time.Time) (reserved bool, err error) {
	res, err := s.DB.ExecContext(ctx, fmt.Sprintf("INSERT INTO id_map (resource_type, fhir_id, legacy_id, created_at) VALUES (%s, %s, NULL, %s) ON CONFLICT (resource_type, fhir_id) DO NOTHING",
		s.ph(1), s.ph(2), s.ph(3)), typ, fhirID, s.ts(at))
	if err != nil {
		return false, fmt.Errorf("control: id map: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// CompleteID records the legacy id of a reserved FHIR id.
func (s *Store) CompleteID(ctx context.Context, typ, fhirID, legacyID string) error {
	if _, err := s.DB.ExecContext(ctx, fmt.Sprintf("UPDATE id_map SET legacy_id = %s WHERE resource_type = %s AND fhir_id = %s",
		s.ph(1), s.ph(2), s.ph(3)), legacyID, typ, fhirID); err != nil {
		return fmt.Errorf("control: id map: %w", err)
	}
	return nil
}

// ReleaseID drops an uncompleted reservation.
func (s *Store) ReleaseID(ctx context.Context, typ, fhirID string) {
	_, _ = s.DB.ExecContext(ctx, fmt.Sprintf("DELETE FROM id_map WHERE resource_type = %s AND fhir_id = %s AND legacy_id IS NULL",
		s.ph(1), s.ph(2)), typ, fhirID)
}
