package audit_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/audit"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
)

// TestAggregator: refused requests from a few sources become a few records
// whose counts sum to the requests, in the real store, on a chain that
// verifies and exports as valid AuditEvents; more sources than the bound
// share one overflow record per status, so the records per window stay
// bounded whatever the traffic.
func TestAggregator(t *testing.T) {
	cases := []struct {
		name     string
		sources  int
		clients  int
		n        int
		maxKeys  int
		maxRecs  int
		overflow bool
	}{
		{"three addresses", 3, 0, 4000, 1000, 2 * 3 * 2, false},             // ≤ 2 windows × 3 addresses × 2 statuses
		{"one throttled client", 1, 1, 1000, 1000, 2 * 1 * 2, false},        // client and address in one key
		{"more sources than the bound", 500, 0, 5000, 20, 2 * 21 * 2, true}, // 20 keys + 1 overflow per status and window
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := open(t, stores[0])
			ctx := context.Background()
			w := audit.NewWriter(st)
			stop := start(w)
			var lost atomic.Int64
			agg := audit.NewAggregator(w.Retain, 200*time.Millisecond, tc.maxKeys, func(*audit.Record, error) { lost.Add(1) })
			var wg sync.WaitGroup
			for g := 0; g < 8; g++ {
				wg.Add(1)
				go func(g int) {
					defer wg.Done()
					for i := g; i < tc.n; i += 8 {
						r := &audit.Record{Time: time.Now(), Interaction: "read", Type: "Patient", Status: 401, Outcome: "denied",
							Source: fmt.Sprintf("10.0.%d.%d", i%tc.sources/256, i%tc.sources%256), RequestID: fmt.Sprint("rid-", i), Method: "GET", Path: "/fhir/Patient/1"}
						if i%2 == 1 {
							r.Status, r.Interaction, r.Path = 429, "search-type", "/fhir/Patient"
						}
						if tc.clients > 0 {
							r.ClientID = "app"
						}
						agg.Add(r)
					}
				}(g)
			}
			wg.Wait()
			agg.Flush()
			if !stop() {
				t.Fatal("writer did not stop")
			}
			if lost.Load() != 0 {
				t.Fatalf("%d aggregated records lost", lost.Load())
			}
			var recs []*audit.Record
			if err := st.Each(ctx, time.Time{}, func(r *audit.Record) error { recs = append(recs, r); return nil }); err != nil {
				t.Fatal(err)
			}
			sum, overflow := 0, false
			for _, r := range recs {
				sum += r.Requests()
				if r.Count < 1 || r.Until.Before(r.Time) || r.RequestID != "" && r.Count > 1 {
					t.Fatalf("aggregated record %+v", r)
				}
				overflow = overflow || (r.Source == "" && r.Count > 0)
				if r.Count > 1 && r.Path == "" {
					t.Fatalf("a path all requests of the record share was dropped: %+v", r)
				}
			}
			if sum != tc.n || len(recs) > tc.maxRecs || overflow != tc.overflow {
				t.Fatalf("%d records (max %d) counting %d requests (want %d), overflow %v", len(recs), tc.maxRecs, sum, tc.n, overflow)
			}
			rep, err := st.Verify(ctx)
			if err != nil || rep.Problem != nil {
				t.Fatalf("verify: %v %+v", err, rep)
			}
			var buf bytes.Buffer
			if _, err := st.Export(ctx, time.Time{}, &buf); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(&buf)
			for sc.Scan() {
				if err := testutil.ValidateFHIR(t, "AuditEvent", sc.Bytes()); err != nil {
					t.Fatalf("%v\n%s", err, sc.Text())
				}
				var ev struct {
					OutcomeDesc string `json:"outcomeDesc"`
					Entity      []struct {
						Detail []struct{ Type, ValueString string } `json:"detail"`
					} `json:"entity"`
				}
				_ = json.Unmarshal(sc.Bytes(), &ev)
				found := false
				for _, e := range ev.Entity {
					for _, d := range e.Detail {
						found = found || d.Type == "count"
					}
				}
				if !found || !bytes.Contains([]byte(ev.OutcomeDesc), []byte("requests answered HTTP")) {
					t.Fatalf("aggregated AuditEvent does not say how many requests: %s", sc.Text())
				}
			}
		})
	}
}
