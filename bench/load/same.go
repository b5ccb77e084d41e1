package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"sync/atomic"
)

// scenarioURL is the request a client of scenario sends for patient pid.
func scenarioURL(base, scenario, pid string, r *rand.Rand) string {
	if scenario == "patient-read" {
		return fmt.Sprintf("%s/fhir/Patient/%s", base, pid)
	}
	return fmt.Sprintf("%s/fhir/Observation?patient=%s&code=http://loinc.org|%s&date=ge2023", base, pid, loincs[r.IntN(len(loincs))])
}

// checkSame sends the same n requests of scenario to both targets and
// fails on the first pair of answers that differ as FHIR content (the
// baseline's work must be the facade's, or the ratio flatters one of them).
// Links and fullUrls are left out: they name each target's own address.
func checkSame(a, b, scenario string, patients, n int) error {
	if scenario == "patient-mixed" {
		return nil // writes: each target changes what the other reads
	}
	if n == 0 {
		return nil
	}
	r := rand.New(rand.NewPCG(11, 13))
	matched := 0
	client := &http.Client{}
	for i := 0; i < n; i++ {
		pid := patientIDs[1+r.IntN(patients)]
		seed := r.Uint64()
		var docs [2]any
		for j, base := range []string{a, b} {
			url := scenarioURL(base, scenario, pid, rand.New(rand.NewPCG(seed, 1)))
			st, body, err := fetch(client, url, base)
			if err != nil || st != 200 {
				return fmt.Errorf("GET %s: status %d %v", url, st, err)
			}
			if err := json.Unmarshal(body, &docs[j]); err != nil {
				return fmt.Errorf("GET %s: %v", url, err)
			}
		}
		if d := firstDiff(withoutAddresses(docs[0]), withoutAddresses(docs[1]), ""); d != "" {
			return fmt.Errorf("patient %s: %s", pid, d)
		}
		if m, ok := docs[0].(map[string]any); ok && len(asSlice(m["entry"])) > 0 {
			matched++
		}
	}
	if scenario != "patient-read" && matched == 0 {
		return fmt.Errorf("none of %d searches matched anything: nothing was compared", n)
	}
	return nil
}

// fetch GETs url as the timed requests do (base's bearer token) and
// counts it in sent: the scripts compare sent with audit records and
// divide CPU by it.
func fetch(c *http.Client, url, base string) (int, []byte, error) {
	v, _ := sent.LoadOrStore(base, new(int64))
	atomic.AddInt64(v.(*int64), 1)
	res, err := get(c, url, base)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

func asString(v any) string { s, _ := v.(string); return s }

// isRowHash tells a versionId made from a hash of the row ("h" and 16 hex
// digits) from one made from a last-updated stamp (digits).
func isRowHash(v string) bool {
	if len(v) != 17 || v[0] != 'h' {
		return false
	}
	return strings.Trim(v[1:], "0123456789abcdef") == ""
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

// withoutAddresses is v without the members that hold a server's own
// address (link, fullUrl).
func withoutAddresses(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			if k != "link" && k != "fullUrl" {
				out[k] = withoutAddresses(x)
			}
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = withoutAddresses(x)
		}
		return out
	}
	return v
}

// firstDiff names the first path at which two decoded JSON documents
// differ ("" when they are equal).
func firstDiff(x, y any, path string) string {
	switch xt := x.(type) {
	case map[string]any:
		yt, ok := y.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: object vs %T", orRoot(path), y)
		}
		keys := map[string]bool{}
		for k := range xt {
			keys[k] = true
		}
		for k := range yt {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			xv, xok := xt[k]
			yv, yok := yt[k]
			if xok != yok {
				return fmt.Sprintf("%s/%s: present in only one (%v / %v)", path, k, xok, yok)
			}
			if d := firstDiff(xv, yv, path+"/"+k); d != "" {
				return d
			}
		}
		return ""
	case []any:
		yt, ok := y.([]any)
		if !ok || len(xt) != len(yt) {
			return fmt.Sprintf("%s: %d items vs %v", orRoot(path), len(xt), describe(y))
		}
		for i := range xt {
			if d := firstDiff(xt[i], yt[i], fmt.Sprintf("%s[%d]", path, i)); d != "" {
				return d
			}
		}
		return ""
	}
	if xs, ok := x.(string); ok && strings.HasSuffix(path, "/meta/versionId") && isRowHash(xs) && isRowHash(asString(y)) {
		// both versions are a hash of the row (no last-updated column):
		// the same work, but over each server's own Go values of the row
		return ""
	}
	if !reflect.DeepEqual(x, y) {
		return fmt.Sprintf("%s: %#v vs %#v", orRoot(path), x, y)
	}
	return ""
}

func describe(v any) string {
	if s, ok := v.([]any); ok {
		return fmt.Sprintf("%d items", len(s))
	}
	return fmt.Sprintf("%T", v)
}

func orRoot(p string) string { return strings.TrimSpace(p + " ") }
