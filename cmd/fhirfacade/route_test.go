package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// TestRouteListUnmirrorable: `route list` shows, per type, how many writes
// made on fhir are unmirrorable (legacy cannot hold them), on both control
// stores.
func TestRouteListUnmirrorable(t *testing.T) {
	testutil.DSNs(t, func(t *testing.T, dsn string) {
		env := []string{"FHIRFACADE_CONTROL_DSN=" + dsn}
		if out, err := command(t, t.TempDir(), env, "route", "list").CombinedOutput(); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		ctl, err := control.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		d := ctl.DB.Dialect
		for _, r := range [][2]string{{"Patient", "unmirrorable"}, {"Patient", "unmirrorable"}, {"Patient", "failed"}, {"Observation", "unmirrorable"}} {
			q := "INSERT INTO outbox (target, resource_type, resource_id, created_at, state) VALUES ('legacy', " + d.Placeholder(1) + ", 'x', " + d.Placeholder(2) + ", " + d.Placeholder(3) + ")"
			if _, err := ctl.DB.Exec(q, r[0], sqldb.StampArg(d, time.Now()), r[1]); err != nil {
				t.Fatal(err)
			}
		}
		ctl.Close()
		out, err := command(t, t.TempDir(), env, "route", "list").CombinedOutput()
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		want := map[string]string{"TYPE": "UNMIRRORABLE", "Patient": "2", "Observation": "1", "Encounter": "0"}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		for _, l := range lines {
			f := strings.Fields(l)
			if w, ok := want[f[0]]; ok && f[len(f)-1] == w {
				delete(want, f[0])
			}
		}
		if len(want) > 0 {
			t.Fatalf("route list lacks %v:\n%s", want, out)
		}
	})
}
