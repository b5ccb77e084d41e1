package control

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Tombstones (table tombstone): the resources deleted through the facade,
// so that reading one answers 410 Gone (package tombstone keeps the rules:
// when to write, when a live resource wins, when to clear).

// Tombstone is one deleted resource: the version it had when deleted, and
// when.
type Tombstone struct {
	Type, ID, VersionID string
	DeletedAt           time.Time
}

// PutTombstone records (or refreshes) the tombstone of typ/id.
func (s *Store) PutTombstone(ctx context.Context, t Tombstone) error {
	q := fmt.Sprintf("INSERT INTO tombstone (resource_type, resource_id, version_id, deleted_at) VALUES (%s, %s, %s, %s) "+
		"ON CONFLICT (resource_type, resource_id) DO UPDATE SET version_id = excluded.version_id, deleted_at = excluded.deleted_at",
		s.ph(1), s.ph(2), s.ph(3), s.ph(4))
	if _, err := s.DB.ExecContext(ctx, q, t.Type, t.ID, t.VersionID, s.ts(t.DeletedAt)); err != nil {
		return fmt.Errorf("control: tombstone: %w", err)
	}
	return nil
}

// TombstoneOf is the tombstone of typ/id (found false when it has none).
func (s *Store) TombstoneOf(ctx context.Context, typ, id string) (t Tombstone, found bool, err error) {
	var at any
	err = s.DB.QueryRowContext(ctx, fmt.Sprintf("SELECT version_id, deleted_at FROM tombstone WHERE resource_type = %s AND resource_id = %s",
		s.ph(1), s.ph(2)), typ, id).Scan(&t.VersionID, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return Tombstone{}, false, nil
	}
	if err != nil {
		return Tombstone{}, false, fmt.Errorf("control: tombstone: %w", err)
	}
	t.Type, t.ID, t.DeletedAt = typ, id, ParseTime(at)
	return t, true, nil
}

// ClearTombstones removes the tombstones of typ's ids, where they have
// one: one statement for up to 500 ids (a transaction Bundle's creates
// clear theirs together).
func (s *Store) ClearTombstones(ctx context.Context, typ string, ids ...string) error {
	for len(ids) > 0 {
		n := min(len(ids), 500)
		marks := make([]string, n)
		args := make([]any, 0, n+1)
		args = append(args, typ)
		for i, id := range ids[:n] {
			marks[i] = s.ph(i + 2)
			args = append(args, id)
		}
		q := fmt.Sprintf("DELETE FROM tombstone WHERE resource_type = %s AND resource_id IN (%s)", s.ph(1), strings.Join(marks, ", "))
		if _, err := s.DB.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("control: tombstone: %w", err)
		}
		ids = ids[n:]
	}
	return nil
}
