package legacy

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

func patientBody(t *testing.T, mrn string, withBirth bool) map[string]any {
	t.Helper()
	src := `{"resourceType":"Patient","identifier":[{"system":"urn:oid:2.16.840.1.113883.3.7777.1","value":"` + mrn + `"}],"name":[{"family":"Unit","given":["Stmt"]}],"gender":"female"`
	if withBirth {
		src += `,"birthDate":"1970-01-02"`
	}
	dec := json.NewDecoder(strings.NewReader(src + "}"))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestUnitPreparesOnce: inside one Transact, a write's statements are
// prepared once per unit — the tenth create prepares nothing the first
// did not — and a re-run of the unit starts with none (the failed
// attempt's statements died with its transaction, and using one would
// fail the re-run).
func TestUnitPreparesOnce(t *testing.T) {
	testutil.LegacyDialects(t, func(t *testing.T, open func(testing.TB) *sqldb.DB) {
		db := open(t)
		b := New(db, testutil.Seed(t, db, 2))
		ctx := context.Background()
		var counts []int
		runs := 0
		err := b.Transact(ctx, []string{"Patient"}, func(ctx context.Context) error {
			runs++
			u := b.unitOf(ctx)
			if len(u.stmts) != 0 {
				t.Errorf("run %d starts with %d prepared statements, want 0", runs, len(u.stmts))
			}
			for i := 0; i < 10; i++ {
				if _, _, err := b.Create(ctx, "Patient", patientBody(t, "MRN-UNIT-"+string(rune('A'+i)), true), nil); err != nil {
					return err
				}
				counts = append(counts, len(u.stmts))
			}
			if _, _, err := b.Create(ctx, "Patient", patientBody(t, "MRN-UNIT-NOBIRTH", false), nil); err != nil {
				return err
			}
			if runs == 1 {
				u.retry = errRace // as a lost race inside the unit would
				return errRace
			}
			return nil
		})
		if err != nil || runs != 2 {
			t.Fatalf("unit: %v after %d runs, want success after 2", err, runs)
		}
		first := counts[0]
		for i, n := range counts[:10] {
			if n != first {
				t.Fatalf("after create %d the unit holds %d statements, after the first %d: statements are prepared again (%v)", i+1, n, first, counts)
			}
		}
		if first == 0 {
			t.Fatal("a create inside the unit prepared nothing")
		}
	})
}

// TestUnitStmtsBounded: past maxUnitStmts a unit runs new SQL unprepared,
// and still answers.
func TestUnitStmtsBounded(t *testing.T) {
	db := testutil.SQLite(t)
	b := New(db, testutil.Seed(t, db, 1))
	err := b.Transact(context.Background(), nil, func(ctx context.Context) error {
		u := b.unitOf(ctx)
		for i := 0; i < maxUnitStmts+5; i++ {
			var n int
			q := "SELECT " + strings.Repeat("1+", i) + "1"
			if err := u.QueryRowContext(ctx, q).Scan(&n); err != nil || n != i+1 {
				t.Fatalf("%s: %d %v", q, n, err)
			}
		}
		if len(u.stmts) != maxUnitStmts {
			t.Errorf("the unit holds %d statements, want at most %d", len(u.stmts), maxUnitStmts)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
