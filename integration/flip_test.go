package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fhirfacade/fhirfacade/catalog"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/facade"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
	"github.com/fhirfacade/fhirfacade/mappings"
	"github.com/fhirfacade/fhirfacade/mirror"
	"github.com/fhirfacade/fhirfacade/routing"
)

// TestFlipUnderLoad: two facades share a PostgreSQL control store; clients
// read and write Patients through both while Patient is flipped legacy ->
// shadow -> fhir -> shadow. No request may fail, both facades must switch
// within a second, and afterwards legacy and FHIR hold the same Patients.
func TestFlipUnderLoad(t *testing.T) {
	w := newWorld(t, testutil.Postgres(t), testutil.PostgresDSN(t))
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	reg, _ := mappings.LoadEmbedded()
	types := map[string]bool{"Patient": true, "Encounter": true, "Observation": true}
	// the second process: its own watcher, router, outbox drainer and server
	ctl2, err := control.Open(w.ctx, w.routesDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer ctl2.Close()
	store2 := routing.NewStore(ctl2.DB)
	watch2, _ := routing.NewWatcher(w.ctx, store2, 50*time.Millisecond, nil)
	go watch2.Run(w.ctx)
	out2 := mirror.NewOutbox(ctl2.DB, log, prometheus.NewRegistry())
	router2 := routing.NewRouter(watch2, types, w.routedLegacy, w.routedFHIR, out2, nil)
	srv2 := testutil.Serve(t, func(base string) http.Handler {
		return facade.New(facade.Config{Catalog: catalog.FromSpecs(reg), Router: router2, Sealer: testutil.Sealer(t), Log: log, Metrics: prometheus.NewRegistry(), BaseURL: base}).Handler()
	})
	go w.outbox.Run(w.ctx, w.ends(), 100*time.Millisecond)
	go out2.Run(w.ctx, mirror.Ends{Legacy: w.legacy, FHIR: w.fhir, Reverse: router2.Reverse}, 100*time.Millisecond)
	w.copyAll("Patient")

	bases := []string{w.http.URL, srv2.URL}
	var reqs, fails atomic.Int64
	var failMsg atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for c := 0; c < 6; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(c), 1))
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				base := bases[r.IntN(2)]
				id := 1 + r.IntN(patients)
				status, body := get(base + fmt.Sprintf("/fhir/Patient/%d", id))
				reqs.Add(1)
				if status != 200 {
					fails.Add(1)
					failMsg.Store(fmt.Sprintf("GET %d: %s", status, body))
					continue
				}
				if c%2 == 0 && n%3 == 0 { // writers: rename through the other facade
					var m map[string]any
					_ = json.Unmarshal(body, &m)
					m["name"].([]any)[0].(map[string]any)["family"] = fmt.Sprintf("Load%dx%d", c, n)
					delete(m, "meta")
					b, _ := json.Marshal(m)
					st, rb := put(bases[1-r.IntN(2)]+fmt.Sprintf("/fhir/Patient/%d", id), b)
					reqs.Add(1)
					if st != 200 {
						fails.Add(1)
						failMsg.Store(fmt.Sprintf("PUT %d: %s", st, rb))
					}
				}
			}
		}(c)
	}
	for _, to := range []routing.State{routing.Shadow, routing.FHIR, routing.Shadow} {
		time.Sleep(700 * time.Millisecond)
		asked := time.Now()
		_, err := w.routes.Set(w.ctx, routing.Move{Type: "Patient", To: to, Actor: "load", Reason: "flip under load", Force: true})
		if err != nil {
			t.Fatal(err)
		}
		// the contract: every facade serves a committed move within a
		// second (the move's own wait for the mirror queue comes before
		// its commit and depends on the load, so it is only logged)
		committed := time.Now()
		for w.watcher.Current().State("Patient") != to || watch2.Current().State("Patient") != to {
			if time.Since(committed) > time.Second {
				t.Fatalf("facades not both on %s %v after the move committed", to, time.Since(committed))
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Logf("-> %s: the move took %v (with its wait for the mirror queue); both facades switched %v after it committed", to, committed.Sub(asked).Round(time.Millisecond), time.Since(committed).Round(time.Millisecond))
	}
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	t.Logf("%d requests, %d failed", reqs.Load(), fails.Load())
	if fails.Load() > 0 {
		t.Fatalf("%d of %d requests failed; last: %v", fails.Load(), reqs.Load(), failMsg.Load())
	}
	w.drain()
	w.same("Patient")
}

func get(url string) (int, []byte) { return sendIfMatch(http.MethodGet, url, "", "") }

func put(url string, body []byte) (int, []byte) {
	return sendIfMatch(http.MethodPut, url, string(body), "")
}
