// Command txload times, against a running facade, N Patients created by N
// single POSTs and by one N-entry transaction Bundle, alternating the two in
// rounds so that drift on a shared machine hits both. It prints each
// round's times and ratio, and the medians. bench/tx.sh runs it against
// `fhirfacade serve` as deployed (router, write fence, control store and
// the audit trail on), which is what a client sees.
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	base := flag.String("base", "http://127.0.0.1:8093/fhir", "FHIR base of the facade")
	n := flag.Int("n", 100, "Patients per side per round")
	rounds := flag.Int("rounds", 10, "rounds (each: N single creates, one N-entry transaction, order alternating)")
	warm := flag.Int("warmup", 1, "rounds run first and not counted")
	only := flag.String("only", "", "time only one side (singles or tx), for a profile of it")
	tag := flag.String("tag", strconv.FormatInt(time.Now().UnixMilli()%(1<<30), 36), "part of the generated MRNs, unique per run (short: legacy MRN columns are narrow)")
	flag.Parse()
	l := &loader{base: strings.TrimSuffix(*base, "/"), n: *n, tag: *tag, cl: &http.Client{}}
	if *only != "" {
		profileOne(l, *only, *rounds)
		return
	}
	var singles, txs, ratios []float64
	for r := -*warm; r < *rounds; r++ {
		var s, t time.Duration
		var err error
		if r%2 == 0 { // ABBA-ish: alternate which side goes first
			s, err = l.singles()
			if err == nil {
				t, err = l.transaction()
			}
		} else {
			t, err = l.transaction()
			if err == nil {
				s, err = l.singles()
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "txload:", err)
			os.Exit(1)
		}
		if r < 0 {
			continue
		}
		singles, txs = append(singles, ms(s)), append(txs, ms(t))
		ratios = append(ratios, float64(s)/float64(t))
		fmt.Printf("round %2d: %d single creates %8.1f ms   one %d-entry transaction %7.1f ms   speed-up %.2fx\n", r+1, *n, ms(s), *n, ms(t), float64(s)/float64(t))
	}
	fmt.Printf("median: singles %.1f ms, transaction %.1f ms, speed-up (median of rounds) %.2fx (min %.2f, max %.2f)\n",
		median(singles), median(txs), median(ratios), slices.Min(ratios), slices.Max(ratios))
}

// profileOne runs rounds of one side only and prints its median.
func profileOne(l *loader, side string, rounds int) {
	run := map[string]func() (time.Duration, error){"singles": l.singles, "tx": l.transaction}[side]
	if run == nil {
		fmt.Fprintln(os.Stderr, "txload: -only wants singles or tx")
		os.Exit(2)
	}
	var ts []float64
	for range rounds {
		d, err := run()
		if err != nil {
			fmt.Fprintln(os.Stderr, "txload:", err)
			os.Exit(1)
		}
		ts = append(ts, ms(d))
	}
	fmt.Printf("%s: median %.1f ms over %d rounds\n", side, median(ts), rounds)
}

type loader struct {
	base, tag string
	n, seq    int
	cl        *http.Client
}

func (l *loader) patient() string {
	l.seq++
	return `{"resourceType":"Patient","identifier":[{"system":"urn:oid:2.16.840.1.113883.3.7777.1","value":"MRN-TX-` + l.tag + fmt.Sprint("-", l.seq) +
		`"}],"name":[{"family":"Bundleperson","given":["Tx"]}],"gender":"male","birthDate":"1980-03-04"}`
}

func (l *loader) singles() (time.Duration, error) {
	began := time.Now()
	for i := 0; i < l.n; i++ {
		if err := l.post(l.base+"/Patient", l.patient(), http.StatusCreated); err != nil {
			return 0, err
		}
	}
	return time.Since(began), nil
}

func (l *loader) transaction() (time.Duration, error) {
	es := make([]string, l.n)
	for i := range es {
		es[i] = `{"resource":` + l.patient() + `,"request":{"method":"POST","url":"Patient"}}`
	}
	body := `{"resourceType":"Bundle","type":"transaction","entry":[` + strings.Join(es, ",") + `]}`
	began := time.Now()
	err := l.post(l.base, body, http.StatusOK)
	return time.Since(began), err
}

func (l *loader) post(url, body string, want int) error {
	res, err := l.cl.Post(url, "application/fhir+json", strings.NewReader(body))
	if err != nil {
		return err
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != want {
		return fmt.Errorf("POST %s: %d, want %d: %.300s", url, res.StatusCode, want, raw)
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
