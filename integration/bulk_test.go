package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/fhirfacade/fhirfacade/bulk"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/routing"
)

// TestBulkExportAcrossRoutes: a system $export of the demo data with
// Patient on `fhir` (synced to the test FHIR server) and Encounter and
// Observation on `legacy` writes, for each type, exactly the resources
// its _summary=count counts — every line valid R4, no id twice — whether
// the files go to a folder or to Azure Blob Storage (Azurite); Patient is
// read from the FHIR server — through its own $export, or by paging its
// search when it offers none (EXPORT=off) — the others from SQL.
func TestBulkExportAcrossRoutes(t *testing.T) {
	for _, v := range []struct {
		name   string
		blob   bool
		native bool
	}{{"folder", false, true}, {"azurite", true, true}, {"folder paging", false, false}} {
		t.Run(v.name, func(t *testing.T) {
			var sink bulk.Sink
			if v.blob {
				sink = azuriteSink(t)
			}
			env := map[bool][]string{false: {"EXPORT=off"}, true: {"EXPORT_FILE_LINES=5"}}[v.native]
			db := testutil.SQLite(t)
			w := newWorldSink(t, db, "sqlite://"+t.TempDir()+"/control.db", false, testutil.Seed(t, db, patients), sink, env...)
			w.copyAll("Patient")
			w.flip("Patient", routing.Shadow, false)
			w.prove("Patient")
			w.flip("Patient", routing.FHIR, false)
			types := []string{"Patient", "Encounter", "Observation"}
			r := w.do("GET", "/fhir/$export?_type="+strings.Join(types, ","), "", "Prefer", "respond-async")
			w.want(r, 202, "kick-off")
			status := r.hdr.Get("Content-Location")
			m := w.waitManifest(status)
			got := map[string]int{}
			for _, o := range m.Output {
				got[o.Type] += w.exportLines(o.URL, o.Type)
			}
			for _, typ := range types {
				c := w.do("GET", "/fhir/"+typ+"?_summary=count", "")
				want := int(c.body["total"].(float64))
				if got[typ] != want || want == 0 {
					t.Errorf("%s: %d lines, _summary=count %d", typ, got[typ], want)
				}
			}
			j, err := w.bulk.Job(context.Background(), status[strings.LastIndex(status, "/")+1:])
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range j.Parts {
				if want := map[bool]string{true: "fhir", false: "legacy"}[p.Type == "Patient"]; p.Backend != want {
					t.Errorf("%s exported from %q, want %q", p.Type, p.Backend, want)
				}
			}
			// the FHIR server's own counts say which way Patient went: one
			// $export job, its files downloaded and the job deleted after
			st := w.fhirSrv.ExportStats()
			if used := st.Kickoffs == 1 && st.Downloads >= 2 && st.Deletes == 1; used != v.native || st.Off == v.native {
				t.Errorf("native path %v: the FHIR server counted %+v", v.native, st)
			}
		})
	}
}

// azuriteSink is a blob sink in a fresh container of a fresh Azurite.
func azuriteSink(t *testing.T) bulk.Sink {
	az := testutil.StartAzurite(t)
	ctx := context.Background()
	cc, err := container.NewClientFromConnectionString(az.ConnectionString(), "bulk", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cc.Create(ctx, nil); err != nil {
		t.Fatal(err)
	}
	sink, err := bulk.NewBlob(ctx, az.BlobURL+"/bulk", az.ConnectionString())
	if err != nil {
		t.Fatal(err)
	}
	return sink
}

type exportManifest struct {
	Output []struct{ Type, URL string }
	Error  []struct{ Type, URL string }
}

// waitManifest polls status until the job is done.
func (w *world) waitManifest(status string) exportManifest {
	w.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		r := w.do("GET", w.path(status), "")
		if r.status == 200 {
			var m exportManifest
			if err := json.Unmarshal(r.raw, &m); err != nil {
				w.t.Fatal(err)
			}
			if len(m.Error) > 0 {
				w.t.Errorf("export errors: %s", r.raw)
			}
			return m
		}
		if r.status != 202 || time.Now().After(deadline) {
			w.t.Fatalf("status: %d %s", r.status, r.raw)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// path is an absolute facade URL's path.
func (w *world) path(u string) string { return strings.TrimPrefix(u, w.http.URL) }

// exportLines downloads one output file, checks every line is valid R4 of
// typ with an id seen once, and counts them.
func (w *world) exportLines(url, typ string) int {
	w.t.Helper()
	r := w.do("GET", w.path(url), "", "Accept", "application/fhir+ndjson")
	if r.status != 200 {
		w.t.Fatalf("download %s: %d %s", url, r.status, r.raw)
	}
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(r.raw))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var res struct{ ID string }
		if err := json.Unmarshal(sc.Bytes(), &res); err != nil || seen[res.ID] {
			w.t.Fatalf("%s: line %q: %v (or a duplicate id)", typ, sc.Text(), err)
		}
		seen[res.ID] = true
		if err := testutil.ValidateFHIR(w.t, typ, sc.Bytes()); err != nil {
			w.t.Fatalf("%s/%s: %v", typ, res.ID, err)
		}
	}
	return len(seen)
}
