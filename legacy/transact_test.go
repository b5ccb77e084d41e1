package legacy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/legacy"
)

// TestTransactReRunsLostRace: a write inside a unit that loses an
// optimistic race (another writer changed the row between its read and
// its UPDATE) re-runs the whole unit — even though the unit's function
// turned the failure into an error of its own, as the facade turns it into
// an HTTP answer — and the re-run's write stands (PostgreSQL: the UPDATE
// waits for the other writer's lock, then finds the row changed).
func TestTransactReRunsLostRace(t *testing.T) {
	db := testutil.Postgres(t)
	b := legacy.New(db, testutil.Seed(t, db, 3))
	ctx := context.Background()
	attempts := 0
	err := b.Transact(ctx, []string{"Patient"}, func(ctx context.Context) error {
		attempts++
		r, err := b.Read(ctx, "Patient", "1")
		if err != nil {
			return err
		}
		dec := json.NewDecoder(bytes.NewReader(r.JSON))
		dec.UseNumber()
		var body map[string]any
		if err := dec.Decode(&body); err != nil {
			return err
		}
		delete(body, "meta")
		body["name"] = []any{map[string]any{"family": "Racer", "given": []any{"Won"}}}
		if attempts == 1 {
			other, err := db.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			if _, err := other.ExecContext(ctx, "UPDATE pat_master SET first_nm = 'Lost', upd_ts = upd_ts + interval '1 second' WHERE pat_id = 1"); err != nil {
				return err
			}
			go func() { time.Sleep(300 * time.Millisecond); _ = other.Commit() }()
		}
		if _, _, err := b.Update(ctx, "Patient", "1", body, ""); err != nil {
			return fmt.Errorf("entry failed: %v", err) // the cause's chain is gone
		}
		return nil
	})
	if err != nil || attempts != 2 {
		t.Fatalf("unit: %v after %d attempts, want success after 2", err, attempts)
	}
	r, err := b.Read(ctx, "Patient", "1")
	if err != nil || !bytes.Contains(r.JSON, []byte(`"Won"`)) {
		t.Fatalf("the re-run's update does not stand: %v %s", err, r.JSON)
	}
}
