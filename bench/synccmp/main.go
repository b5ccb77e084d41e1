// Command synccmp measures `sync` against the FHIR server's own ingest rate
// in one run: the same resources in the same batch bundles, once through
// syncer (legacy read, mapping, checkpoints, result parsing) and once by a
// minimal loader that only POSTs pre-built bundles, alternating.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/legacy"
	"github.com/fhirfacade/fhirfacade/mappings"
	"github.com/fhirfacade/fhirfacade/migrations"
	"github.com/fhirfacade/fhirfacade/search"
	"github.com/fhirfacade/fhirfacade/seed"
	"github.com/fhirfacade/fhirfacade/sqldb"
	"github.com/fhirfacade/fhirfacade/syncer"
	"github.com/fhirfacade/fhirfacade/upstream"
)

func main() {
	fhirURL := flag.String("fhir", "http://127.0.0.1:8089/fhir", "FHIR base")
	dir := flag.String("dir", "bench/out/synccmp", "working folder")
	patients := flag.Int("patients", 1000, "patients seeded (20 Observations each)")
	batch := flag.Int("batch", 100, "entries per bundle")
	parallel := flag.Int("parallel", 4, "bundles in flight")
	rounds := flag.Int("rounds", 2, "alternating rounds")
	flag.Parse()
	ctx := context.Background()
	_ = os.MkdirAll(*dir, 0o755)
	db, err := sqldb.Open(ctx, "sqlite://"+*dir+"/legacy.db")
	must(err)
	must(migrations.Up(db.DB, migrations.Legacy, "sqlite"))
	must(seed.Run(ctx, db, seed.Options{Patients: *patients}))
	reg, _ := mappings.LoadEmbedded()
	lb := legacy.New(db, reg)
	c, err := upstream.New(upstream.Config{BaseURL: *fhirURL})
	must(err)
	fb := upstream.NewBackend(c)
	typ := "Observation"

	// the loader's bundles: built before timing, same entries and sizes
	var bundles [][]byte
	cursor := ""
	n := 0
	for {
		page, err := lb.Search(ctx, typ, &search.Query{}, backend.SearchOptions{Count: *batch, Cursor: cursor})
		must(err)
		type entry struct {
			Resource json.RawMessage   `json:"resource"`
			Request  map[string]string `json:"request"`
		}
		var es []entry
		for _, r := range page.Resources {
			es = append(es, entry{Resource: r.JSON, Request: map[string]string{"method": "PUT", "url": typ + "/" + r.ID}})
		}
		n += len(es)
		b, _ := json.Marshal(map[string]any{"resourceType": "Bundle", "type": "batch", "entry": es})
		bundles = append(bundles, b)
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	var syncSecs, loadSecs float64
	for r := 0; r < *rounds; r++ {
		ctl, err := control.Open(ctx, fmt.Sprintf("sqlite://%s/control-%d-%d.db", *dir, time.Now().UnixNano(), r))
		must(err)
		start := time.Now()
		res, err := (&syncer.Syncer{Legacy: lb, FHIR: fb, Ctl: ctl}).Run(ctx, syncer.Options{Type: typ, Batch: *batch, Parallel: *parallel})
		must(err)
		d := time.Since(start).Seconds()
		syncSecs += d
		ctl.Close()
		start = time.Now()
		load(*fhirURL, bundles, *parallel)
		l := time.Since(start).Seconds()
		loadSecs += l
		fmt.Printf("round %d: sync %d in %.2fs (%.0f/s), loader %d in %.2fs (%.0f/s)\n", r+1, res.Written, d, float64(res.Written)/d, n, l, float64(n)/l)
	}
	fmt.Printf("sync %.0f resources/s, loader %.0f resources/s, ratio %.2f (%d %ss, batch %d, parallel %d)\n",
		float64(n*(*rounds))/syncSecs, float64(n*(*rounds))/loadSecs, loadSecs/syncSecs, n, typ, *batch, *parallel)
}

func load(base string, bundles [][]byte, parallel int) {
	ch := make(chan []byte)
	var wg sync.WaitGroup
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range ch {
				res, err := http.Post(base, "application/fhir+json", bytes.NewReader(b))
				must(err)
				var out struct{ Entry []any }
				_ = json.NewDecoder(res.Body).Decode(&out)
				res.Body.Close()
			}
		}()
	}
	for _, b := range bundles {
		ch <- b
	}
	close(ch)
	wg.Wait()
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
