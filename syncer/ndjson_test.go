package syncer_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/legacy"
	"github.com/fhirfacade/fhirfacade/syncer"
)

func TestExportNDJSON(t *testing.T) {
	db := testutil.SQLite(t)
	ctx := context.Background()
	reg := testutil.Seed(t, db, 40)
	// one row the spec cannot map: reported, not exported
	if _, err := db.ExecContext(ctx, "UPDATE lab_result SET result_status = 'Q' WHERE result_id = 9"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	res, err := syncer.ExportNDJSON(ctx, legacy.New(db, reg), "Observation", dir, 100, 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	if res.Written != 40*20-1 || res.Failed != 1 || res.Failures[0].ID != "9" {
		t.Fatalf("counts: %+v", res)
	}
	if len(res.Files) < 3 {
		t.Fatalf("size cap not applied: %v", res.Files)
	}
	lines := 0
	for _, f := range res.Files {
		st, _ := os.Stat(f)
		if st.Size() > 64<<10 {
			t.Fatalf("%s is %d bytes", f, st.Size())
		}
		fh, _ := os.Open(f)
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil || m["resourceType"] != "Observation" {
				t.Fatalf("bad line in %s: %s", f, sc.Text())
			}
			if err := testutil.ValidateFHIR(t, "Observation", sc.Bytes()); err != nil {
				t.Fatal(err)
			}
			lines++
		}
		fh.Close()
	}
	if lines != res.Written {
		t.Fatalf("%d lines for %d resources", lines, res.Written)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.partial")); len(left) > 0 {
		t.Fatalf("partial files left: %v", left)
	}
}
