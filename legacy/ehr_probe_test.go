package legacy_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/search"
)

// testEHRQuantityNumbers: quantity search numbers a second probe of the
// running facade sent (each case failed before its fix): a long fraction
// panicked (10^64 overflowed int64 to 0: division by zero, a 500), Go's
// number syntax beyond FHIR's (0x10, 1_0) was read as another number, an
// exponent was counted as fraction digits, and -1e999 with ap matched
// every result.
func testEHRQuantityNumbers(t *testing.T, w ehrWorld) {
	numeric := *w.search("Observation", "value-quantity:missing=false", 1).Total
	for _, c := range []struct {
		q    string
		same string // a query that must give the same total; "" for none
		want int    // the total when same is ""; -1: a 400
	}{
		{q: "value-quantity=5." + strings.Repeat("1", 63), want: 0},
		{q: "value-quantity=5." + strings.Repeat("1", 18), want: 0},
		{q: "value-quantity=1.0e1", same: "value-quantity=10"},
		{q: "value-quantity=100e-1", same: "value-quantity=10.0"},
		{q: "value-quantity=ap-1e999", want: 0},
		{q: "value-quantity=ap1e999", want: 0},
		{q: "value-quantity=1e9999999", want: 0},
		{q: "value-quantity=ne1e9999999", want: numeric},
		{q: "value-quantity=lt1e999", want: numeric},
		{q: "value-quantity=gt-1e999", want: numeric},
		{q: "value-quantity=lt-1e999", want: 0},
		{q: "value-quantity=0x10", want: -1},
		{q: "value-quantity=0x1p4", want: -1},
		{q: "value-quantity=1_0", want: -1},
		{q: "value-quantity=.5", want: -1},
		{q: "value-quantity=5.", want: -1},
		{q: "value-quantity=Inf", want: -1},
		{q: "value-quantity=1e", want: -1},
	} {
		t.Run(c.q, func(t *testing.T) {
			w := w
			w.t = t
			if c.want < 0 {
				vals, _ := url.ParseQuery(c.q)
				sq, err := search.ParseQuery(vals)
				if err == nil {
					_, err = w.be.Search(context.Background(), "Observation", sq, backend.SearchOptions{Count: 1})
				}
				if !errors.Is(err, backend.ErrInvalid) {
					t.Fatalf("%v, want a 400", err)
				}
				return
			}
			want := c.want
			if c.same != "" {
				want = *w.search("Observation", c.same, 1).Total
			}
			if got := *w.search("Observation", c.q, 1).Total; got != want {
				t.Fatalf("%d results, want %d", got, want)
			}
		})
	}
}
