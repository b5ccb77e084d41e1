// Command baseline is the bare comparison server for the read benchmarks:
// the same SQL the facade generates, run with a native pgx pool, rows
// encoded to the same JSON shape with encoding/json in plain net/http
// handlers. No routing, no mapping engine, no middleware.
//
// It matches the facade on the seeded data only (bench/load compares the
// two before timing): NULLs, blank text, numbers outside FHIR's decimal
// grammar and codes outside the specs' maps, which the seed never writes,
// are not handled as the facade handles them.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/fhirfacade/fhirfacade/bench/internal/benchprof"
	"github.com/fhirfacade/fhirfacade/bench/internal/deployed"
)

var loc, _ = time.LoadLocation("America/New_York")

func main() {
	dsn := flag.String("dsn", "", "PostgreSQL URL of the seeded legacy database")
	listen := flag.String("listen", "127.0.0.1:8091", "address")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile to this file until SIGINT/SIGTERM")
	asDeployed := flag.Bool("as-deployed", false, "carry the facade's per-request obligations: request id, JSON log line to stderr, Prometheus series, server timeouts (bench/internal/deployed)")
	flag.Parse()
	benchprof.Start(*cpuProfile)
	pool, err := pgxpool.New(context.Background(), *dsn)
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /fhir/Patient/{id}", func(w http.ResponseWriter, r *http.Request) { patient(pool, w, r) })
	mux.HandleFunc("GET /fhir/Observation", func(w http.ResponseWriter, r *http.Request) { observations(pool, w, r) })
	log.Fatal(deployed.Serve(*listen, mux, *asDeployed))
}

// inLoc reads a timestamp (no zone) as a wall clock in loc, as the
// facade's specs do (timezone: America/New_York).
func inLoc(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc)
}

func ts(t time.Time) string { return inLoc(t).Format(time.RFC3339) }

// meta is the facade's meta of a row last updated at upd (a wall clock in
// loc): versionId its instant in milliseconds, lastUpdated with them.
func meta(upd time.Time) obj {
	u := inLoc(upd).Truncate(time.Millisecond)
	return obj{"versionId": strconv.FormatInt(u.UnixMilli(), 10), "lastUpdated": u.Format("2006-01-02T15:04:05.000Z07:00")}
}

type obj = map[string]any

func patient(pool *pgxpool.Pool, w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	var (
		pid                                        int32
		upd                                        time.Time
		mrn, last                                  string
		first, middle, sex, addr, city, state, zip *string
		phone, dec                                 *string
		dob, decAt                                 *time.Time
	)
	err = pool.QueryRow(r.Context(), `SELECT t.pat_id, t.upd_ts, t.mrn, t.last_nm, t.first_nm, t.middle_nm, t.phone_home, t.sex_cd, t.birth_dt, t.deceased_yn, t.deceased_dttm, t.addr_line1, t.city, t.state_cd, t.zip_cd FROM pat_master t WHERE t.pat_id = $1`, id).
		Scan(&pid, &upd, &mrn, &last, &first, &middle, &phone, &sex, &dob, &dec, &decAt, &addr, &city, &state, &zip)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	given := []string{}
	for _, g := range []*string{first, middle} {
		if g != nil {
			given = append(given, *g)
		}
	}
	res := obj{"resourceType": "Patient", "id": strconv.Itoa(int(pid)),
		"meta":       meta(upd),
		"identifier": []obj{{"use": "usual", "type": obj{"coding": []obj{{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}}}, "system": "urn:oid:2.16.840.1.113883.3.7777.1", "value": mrn}},
		"name":       []obj{{"use": "official", "family": last, "given": given}},
		"gender":     map[string]string{"M": "male", "F": "female", "U": "unknown", "O": "other"}[deref(sex)],
	}
	if phone != nil {
		res["telecom"] = []obj{{"system": "phone", "use": "home", "value": *phone}}
	}
	if dob != nil {
		res["birthDate"] = dob.Format("2006-01-02")
	}
	if decAt != nil {
		res["deceasedDateTime"] = ts(*decAt)
	} else {
		res["deceasedBoolean"] = deref(dec) == "Y"
	}
	res["address"] = []obj{{"use": "home", "line": []string{deref(addr)}, "city": deref(city), "state": deref(state), "postalCode": deref(zip)}}
	w.Header().Set("Content-Type", "application/fhir+json")
	_ = json.NewEncoder(w).Encode(res)
}

// labValue sets the facade's value[x] of a lab result text: a Quantity
// (with its comparator) when the text is a number, a string otherwise.
func labValue(o obj, val string, unit *string) {
	cmp, num := "", val
	for _, c := range []string{"<=", ">=", "<", ">"} {
		if strings.HasPrefix(val, c) {
			cmp, num = c, strings.TrimSpace(val[len(c):])
			break
		}
	}
	if _, err := strconv.ParseFloat(num, 64); err != nil {
		o["valueString"] = val
		return
	}
	q := obj{"value": json.Number(num)}
	if cmp != "" {
		q["comparator"] = cmp
	}
	if unit != nil {
		q["unit"], q["system"], q["code"] = *unit, "http://unitsofmeasure.org", *unit
	}
	o["valueQuantity"] = q
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func observations(pool *pgxpool.Pool, w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	pat, _ := strconv.Atoi(strings.TrimPrefix(q.Get("patient"), "Patient/"))
	code := q.Get("code")
	if i := strings.LastIndex(code, "|"); i >= 0 {
		code = code[i+1:]
	}
	from, _ := time.Parse("2006", strings.TrimPrefix(q.Get("date"), "ge"))
	rows, err := pool.Query(r.Context(), `SELECT t.result_id, t.upd_ts, t.lab_accession, t.result_status, ltc.loinc_cd, ltc.loinc_display, t.local_test_cd, t.pat_id, t.visit_id, t.collected_dttm, t.performer_id, t.result_val, t.result_unit, t.abn_flag, t.ref_range FROM lab_result t LEFT JOIN lab_test_code ltc ON ltc.local_cd = t.local_test_cd WHERE ltc.loinc_cd = $1 AND t.collected_dttm >= $2 AND t.pat_id = $3 ORDER BY t.result_id LIMIT 21`, code, from, pat)
	if err != nil {
		http.Error(w, "db", 500)
		return
	}
	defer rows.Close()
	var entries []obj
	for rows.Next() {
		var (
			rid, pid                        int32
			vid                             *int32
			upd, at                         time.Time
			acc, status, loinc, disp, local string
			perf, val, unit, flag, ref      *string
		)
		if err := rows.Scan(&rid, &upd, &acc, &status, &loinc, &disp, &local, &pid, &vid, &at, &perf, &val, &unit, &flag, &ref); err != nil {
			http.Error(w, "db", 500)
			return
		}
		o := obj{"resourceType": "Observation", "id": strconv.Itoa(int(rid)),
			"meta":              meta(upd),
			"identifier":        []obj{{"system": "urn:oid:2.16.840.1.113883.3.7777.2", "value": acc}},
			"status":            map[string]string{"F": "final", "P": "preliminary", "C": "corrected"}[status],
			"category":          []obj{{"coding": []obj{{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory", "display": "Laboratory"}}}},
			"code":              obj{"coding": []obj{{"system": "http://loinc.org", "code": loinc, "display": disp}, {"system": "urn:oid:2.16.840.1.113883.3.7777.3", "code": local}}, "text": disp},
			"subject":           obj{"reference": "Patient/" + strconv.Itoa(int(pid))},
			"effectiveDateTime": ts(at),
		}
		if vid != nil {
			o["encounter"] = obj{"reference": "Encounter/" + strconv.Itoa(int(*vid))}
		}
		if perf != nil {
			o["performer"] = []obj{{"reference": "Practitioner/" + *perf}}
		}
		if val != nil {
			labValue(o, *val, unit)
		}
		if flag != nil {
			o["interpretation"] = []obj{{"coding": []obj{{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": *flag}}}}
		}
		if ref != nil {
			o["referenceRange"] = []obj{{"text": *ref}}
		}
		entries = append(entries, obj{"fullUrl": "http://" + r.Host + "/fhir/Observation/" + strconv.Itoa(int(rid)), "resource": o, "search": obj{"mode": "match"}})
	}
	w.Header().Set("Content-Type", "application/fhir+json")
	b := obj{"resourceType": "Bundle", "type": "searchset", "link": []obj{{"relation": "self", "url": r.URL.String()}}}
	if entries != nil {
		b["entry"] = entries
	}
	_ = json.NewEncoder(w).Encode(b)
}
