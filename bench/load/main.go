// Command load drives the side-by-side read benchmarks: the same requests,
// alternately against the facade and the bare baseline, in rounds so that
// drift on a shared machine hits both. It prints throughput, p50 and p99.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fhirfacade/fhirfacade/seed"
)

var loincs = []string{"2345-7", "2951-2", "2823-3", "2160-0", "718-7", "6690-2", "777-3", "4548-4", "2093-3", "1988-5", "6598-7", "2106-3"}

// patientIDs maps patient number i (1-based) to its FHIR id: the number
// itself on the demo schema, seed.EHRPatientGUID(i) on the EHR schema
// (computed once here, so hashing stays out of the timed loop). For -schema
// ehr it also switches loincs to the EHR lab tests' codes.
var patientIDs []string

func setSchema(schema string, patients int) error {
	if schema != "demo" && schema != "ehr" {
		return fmt.Errorf("-schema %q: want demo or ehr", schema)
	}
	patientIDs = make([]string, patients+1)
	for i := 1; i <= patients; i++ {
		patientIDs[i] = strconv.Itoa(i)
		if schema == "ehr" {
			patientIDs[i] = seed.EHRPatientGUID(i)
		}
	}
	if schema == "ehr" {
		loincs = nil
		for _, t := range seed.EHRLabTests {
			if t.LOINC != "" {
				loincs = append(loincs, t.LOINC)
			}
		}
	}
	return nil
}

type result struct {
	n, errs int
	dur     time.Duration
	lat     []time.Duration
}

func (r result) rps() float64 { return float64(r.n) / r.dur.Seconds() }

func (r result) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[int(float64(len(r.lat)-1)*p)]
}

// tokens maps a base URL to the bearer token its requests carry.
var tokens = map[string]string{}

// sent counts the requests sent per base URL (warm-ups included), so the
// audit benchmark can compare it with the audit records stored.
var sent sync.Map

func get(c *http.Client, url, base string) (*http.Response, error) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if t := tokens[base]; t != "" {
		req.Header.Set("Authorization", "Bearer "+t)
	}
	return c.Do(req)
}

func run(base, scenario string, patients, conc int, d time.Duration) result {
	var issued int64
	defer func() {
		v, _ := sent.LoadOrStore(base, new(int64))
		*(v.(*int64)) += issued
	}()
	var imu sync.Mutex
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc * 2}}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var mu sync.Mutex
	var all []time.Duration
	errs := 0
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, 7))
			var lat []time.Duration
			e := 0
			for ctx.Err() == nil {
				pid := patientIDs[1+r.IntN(patients)]
				var url string
				switch scenario {
				case "patient-mixed":
					// read a Patient from one facade, write it back renamed
					// through the other (-mixed bases), one write in three reads
					t0 := time.Now()
					// from and target are this request's own: base is
					// shared by every worker and keeps its whole list
					from, target := base, base
					if bases := strings.Split(base, ","); len(bases) > 1 {
						from, target = bases[r.IntN(len(bases))], bases[r.IntN(len(bases))]
					}
					st, body := do(client, http.MethodGet, fmt.Sprintf("%s/fhir/Patient/%s", from, pid), nil)
					if st != 200 {
						e++
						continue
					}
					if r.IntN(3) == 0 {
						var m map[string]any
						_ = json.Unmarshal(body, &m)
						m["name"].([]any)[0].(map[string]any)["family"] = fmt.Sprintf("Load%d", r.IntN(1000000))
						delete(m, "meta")
						b, _ := json.Marshal(m)
						if st, _ := do(client, http.MethodPut, fmt.Sprintf("%s/fhir/Patient/%s", target, pid), b); st != 200 {
							e++
						}
					}
					lat = append(lat, time.Since(t0))
					continue
				default:
					url = scenarioURL(base, scenario, pid, r)
				}
				t0 := time.Now()
				imu.Lock()
				issued++
				imu.Unlock()
				res, err := get(client, url, base)
				if err != nil {
					if ctx.Err() == nil {
						e++
					}
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					e++
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			all = append(all, lat...)
			errs += e
			mu.Unlock()
		}(uint64(w))
	}
	wg.Wait()
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	return result{n: len(all), errs: errs, dur: time.Since(start), lat: all}
}

func main() {
	facade := flag.String("facade", "http://127.0.0.1:8090", "facade base URL")
	baseline := flag.String("baseline", "http://127.0.0.1:8091", "baseline base URL")
	patients := flag.Int("patients", 100000, "patients in the database")
	conc := flag.Int("c", 16, "concurrent clients")
	d := flag.Duration("d", 10*time.Second, "duration of each run")
	rounds := flag.Int("rounds", 2, "alternating rounds per scenario")
	scenarios := flag.String("scenarios", "patient-read,observation-search", "comma-separated scenarios")
	labels := flag.String("labels", "facade,baseline", "names of the two targets in the output")
	prefill := flag.Int("prefill", 0, "copy Patient/1..N from -facade to -to (a FHIR base) and exit")
	to := flag.String("to", "", "FHIR base URL that -prefill writes to")
	only := flag.Bool("only", false, "drive only -facade (for -d), no baseline, no warm-up")
	tokenFile := flag.String("token-file", "", "send the bearer token in FILE to -facade")
	check := flag.Int("check", 400, "requests per scenario compared between the two targets before timing (0: none)")
	schema := flag.String("schema", "demo", "demo schema seeded: demo (ids 1..N) or ehr (uuid ids, seed.EHRPatientGUID)")
	flag.Parse()
	if err := setSchema(*schema, *patients); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		tokens[*facade] = strings.TrimSpace(string(b))
	}
	defer func() {
		for _, base := range []string{*facade, *baseline} {
			if v, ok := sent.Load(base); ok {
				fmt.Printf("requests sent to %s: %d\n", base, *(v.(*int64)))
			}
		}
	}()
	if *only {
		for _, sc := range strings.Split(*scenarios, ",") {
			f := run(*facade, sc, *patients, *conc, *d)
			fmt.Printf("%-19s %8.0f ops/s  p50 %6.2f ms  p99 %6.2f ms  ops %d  failed %d\n", sc, f.rps(), ms(f.pct(0.5)), ms(f.pct(0.99)), f.n, f.errs)
		}
		return
	}
	if *prefill > 0 {
		if err := copyPatients(*facade, *to, *prefill); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	names := strings.SplitN(*labels, ",", 2)
	for _, sc := range strings.Split(*scenarios, ",") {
		// a ratio means nothing unless both serve the same resources
		if err := checkSame(*facade, *baseline, sc, *patients, *check); err != nil {
			fmt.Fprintf(os.Stderr, "%s: the targets do not answer alike, no benchmark: %v\n", sc, err)
			os.Exit(1)
		}
		// warm both (connection pools, caches)
		run(*facade, sc, *patients, *conc, 2*time.Second)
		run(*baseline, sc, *patients, *conc, 2*time.Second)
		var f, b result
		var ratios []float64
		for i := 0; i < *rounds; i++ {
			// ABBA order: whichever target runs second in a round gets a
			// warmer machine (or a busier one); alternating cancels that.
			var fr, br result
			if i%2 == 0 {
				fr = run(*facade, sc, *patients, *conc, *d)
				br = run(*baseline, sc, *patients, *conc, *d)
			} else {
				br = run(*baseline, sc, *patients, *conc, *d)
				fr = run(*facade, sc, *patients, *conc, *d)
			}
			ratios = append(ratios, fr.rps()/br.rps())
			f = merge(f, fr)
			b = merge(b, br)
		}
		inOrder := fmt.Sprintf("%.2f", ratios)
		sort.Float64s(ratios)
		fmt.Printf("%-19s %-9s %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %d\n", sc, names[0], f.rps(), ms(f.pct(0.5)), ms(f.pct(0.99)), f.errs)
		fmt.Printf("%-19s %-9s %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %d\n", sc, names[1], b.rps(), ms(b.pct(0.5)), ms(b.pct(0.99)), b.errs)
		fmt.Printf("%-19s ratio %s/%s throughput %.2f (rounds %.2f-%.2f), added p50 %.2f ms\n", sc, names[0], names[1], f.rps()/b.rps(), ratios[0], ratios[len(ratios)-1], ms(f.pct(0.5))-ms(b.pct(0.5)))
		fmt.Printf("%-19s rounds in order %s, load average %s\n", sc, inOrder, loadAvg())
		if f.errs+b.errs > 0 {
			fmt.Fprintln(os.Stderr, "errors during the run")
		}
	}
}

// copyPatients reads Patient/1..n from one FHIR base and PUTs them to another.
func copyPatients(from, to string, n int) error {
	for i := 1; i <= n; i++ {
		res, err := http.Get(fmt.Sprintf("%s/fhir/Patient/%d", from, i))
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			return fmt.Errorf("read Patient/%d: %d", i, res.StatusCode)
		}
		req, _ := http.NewRequest(http.MethodPut, fmt.Sprintf("%s/Patient/%d", to, i), bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/fhir+json")
		put, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, put.Body)
		put.Body.Close()
		if put.StatusCode >= 300 {
			return fmt.Errorf("put Patient/%d: %d", i, put.StatusCode)
		}
	}
	return nil
}

func do(c *http.Client, method, url string, body []byte) (int, []byte) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	res, err := c.Do(req)
	if err != nil {
		return 599, nil
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func merge(a, b result) result {
	lat := append(a.lat, b.lat...)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return result{n: a.n + b.n, errs: a.errs + b.errs, dur: a.dur + b.dur, lat: lat}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// loadAvg is the machine's 1-, 5- and 15-minute load average ("?" where
// /proc/loadavg is missing): the machine is shared, and a ratio means
// little without it.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
}
