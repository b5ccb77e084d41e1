package scaffold_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/legacy"
	"github.com/fhirfacade/fhirfacade/mappings"
	"github.com/fhirfacade/fhirfacade/mappings/sample"
	"github.com/fhirfacade/fhirfacade/mappings/scaffold"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

var update = flag.Bool("update", false, "rewrite golden files")

// validCodes is a FHIR code each code map stub's targets may take.
var validCodes = map[string]map[string]string{
	"Patient":     {"gender": "unknown"},
	"Encounter":   {"status": "unknown", "class": "AMB"},
	"Observation": {"status": "final", "interpretation": "N"},
}

// fillCodes does what a migration engineer does first with a draft: it
// replaces the TODO target of every code map entry by a FHIR code, and
// touches nothing else.
func fillCodes(t *testing.T, draft []byte) []byte {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(draft, &doc); err != nil {
		t.Fatalf("draft is not YAML: %v\n%s", err, draft)
	}
	root := doc.Content[0]
	typ := ""
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "resourceType" {
			typ = root.Content[i+1].Value
		}
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "codeMaps" {
			continue
		}
		maps := root.Content[i+1]
		for j := 0; j+1 < len(maps.Content); j += 2 {
			name, m := maps.Content[j].Value, maps.Content[j+1]
			code, ok := validCodes[typ][name]
			if !ok {
				t.Fatalf("%s: a code map %s the test knows no code for", typ, name)
			}
			for k := 1; k < len(m.Content); k += 2 {
				if m.Content[k].Value == "TODO" {
					m.Content[k].Value = code
				}
			}
		}
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestScaffoldThenCheck is the done-criterion of issue 11: on both demo
// schemas, live on SQLite and PostgreSQL, the drafts of the three tables
// pass `mappings check` (Bind: no problem at all, fatal or advice) after
// only their code maps are filled in.
func TestScaffoldThenCheck(t *testing.T) {
	schemas := []struct {
		name   string
		seed   func(testing.TB, *sqldb.DB, int) *mappings.Registry
		tables []string
	}{
		{"ehr", testutil.SeedEHR, []string{"dbo.PatientMaster", "dbo.PatientVisit", "dbo.LabResult"}},
		{"demo", testutil.Seed, []string{"pat_master", "visit", "lab_result"}},
	}
	testutil.Dialects(t, func(t *testing.T, open func(testing.TB) *sqldb.DB) {
		for _, sc := range schemas {
			t.Run(sc.name, func(t *testing.T) {
				db := open(t)
				sc.seed(t, db, 40)
				ctx := context.Background()
				dir := t.TempDir()
				for _, table := range sc.tables {
					draft, err := scaffold.Draft(ctx, db, table, "")
					if err != nil {
						t.Fatalf("%s: %v", table, err)
					}
					if !bytes.Contains(draft, []byte(": TODO")) {
						t.Errorf("%s: no code map stub in the draft:\n%s", table, draft)
					}
					name := strings.ToLower(strings.TrimPrefix(table, "dbo.")) + ".yaml"
					if err := os.WriteFile(filepath.Join(dir, name), fillCodes(t, draft), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				reg, err := mappings.LoadDir(dir)
				if err != nil {
					t.Fatalf("drafts do not load: %v", err)
				}
				if got := strings.Join(reg.Types(), ","); got != "Encounter,Observation,Patient" {
					t.Errorf("types %s", got)
				}
				probs, err := reg.Bind(ctx, db, db.Dialect)
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range probs {
					t.Errorf("check: fatal=%v %s", p.Fatal, p)
				}
				// and what the drafts serve is valid R4 (check --sample)
				res, err := sample.Run(ctx, legacy.New(db, reg), reg, testutil.FHIRValidator(t), 200)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range res {
					for _, f := range r.Failures {
						t.Errorf("sample: %s", f)
					}
				}
			})
		}
	})
}

// TestScaffoldGolden: the draft of the EHR schema's PatientMaster, as a
// migration engineer gets it (refresh with -update).
func TestScaffoldGolden(t *testing.T) {
	db := testutil.SQLite(t)
	testutil.SeedEHR(t, db, 60)
	got, err := scaffold.Draft(context.Background(), db, "dbo.PatientMaster", "")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "patientmaster.yaml")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("draft differs from %s (run with -update if intended):\n%s", golden, got)
	}
}

// TestScaffoldRefusals: a table that is not there, a type that cannot be
// guessed, and a table without a one-column key (a view) drafted with a
// TODO key rather than a silent pick.
func TestScaffoldRefusals(t *testing.T) {
	db := testutil.SQLite(t)
	testutil.SeedEHR(t, db, 3)
	ctx := context.Background()
	if _, err := scaffold.Draft(ctx, db, "NoSuchTable", "Patient"); err == nil || !strings.Contains(err.Error(), "no such table") {
		t.Errorf("missing table: %v", err)
	}
	if _, err := scaffold.Draft(ctx, db, "RaceCode", ""); err == nil || !strings.Contains(err.Error(), "--type") {
		t.Errorf("unguessable type: %v", err)
	}
	draft, err := scaffold.Draft(ctx, db, "vw_LabResultDetail", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"key: TODO", "no primary key", `reference: "Patient/{{PatientGUID}}"`, `reference: "Encounter/{{VisitGUID}}"`} {
		if !strings.Contains(string(draft), want) {
			t.Errorf("view draft lacks %q:\n%s", want, draft)
		}
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE site_patient (site TEXT NOT NULL, mrn TEXT NOT NULL, last_nm TEXT, PRIMARY KEY (site, mrn))`); err != nil {
		t.Fatal(err)
	}
	draft, err = scaffold.Draft(ctx, db, "site_patient", "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(draft), "a composite primary key (site, mrn)") || !strings.Contains(string(draft), "key: TODO") {
		t.Errorf("composite key not said:\n%s", draft)
	}
}
