// Command baseline-ehr is the bare comparison server for the read
// benchmarks on the second demo schema (migrations/legacy_ehr, served by
// the facade with mappings/specs_ehr): the SQL the facade generates, run on
// a native pgx pool, rows encoded to the same JSON fields with
// encoding/json in plain net/http handlers. No routing, no mapping engine,
// no middleware. bench/baseline is the same for the first demo schema.
//
// It matches the facade on the seeded data only (bench/load compares the
// two before timing): NULLs, blank text and codes outside the specs' maps,
// which the seed never writes, are not handled as the facade handles them.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"log"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/fhirfacade/fhirfacade/bench/internal/benchprof"
	"github.com/fhirfacade/fhirfacade/bench/internal/deployed"
)

// loc renders instants (timestamptz) and reads wall clocks (timestamp).
var loc, _ = time.LoadLocation("America/New_York")

func main() {
	dsn := flag.String("dsn", "", "PostgreSQL URL of the seeded EHR database")
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

type obj = map[string]any

// instant renders a timestamptz in loc, with milliseconds unless whole
// seconds (as the facade does).
func instant(t time.Time) string {
	t = t.In(loc).Truncate(time.Millisecond)
	if t.Nanosecond() == 0 {
		return t.Format(time.RFC3339)
	}
	return t.Format("2006-01-02T15:04:05.000Z07:00")
}

// wall renders a timestamp (no zone) as a wall clock in loc.
func wall(t time.Time) string {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc).Format(time.RFC3339)
}

// meta is meta.versionId/lastUpdated from ModifiedAt, or a content hash of
// the row when ModifiedAt is NULL (as the facade does).
func meta(upd *time.Time, row ...any) obj {
	if upd != nil {
		// the facade always writes the milliseconds of meta.lastUpdated
		// (.000 too), unlike effectiveDateTime (instant)
		u := upd.In(loc).Truncate(time.Millisecond)
		return obj{"versionId": strconv.FormatInt(u.UnixMilli(), 10), "lastUpdated": u.Format("2006-01-02T15:04:05.000Z07:00")}
	}
	h := fnv.New64a()
	for _, v := range row {
		if p, ok := v.(*string); ok && p != nil {
			v = *p // the value, not the pointer's address
		}
		fmt.Fprintf(h, "%T:%v\x00", v, v)
	}
	return obj{"versionId": fmt.Sprintf("h%016x", h.Sum64())}
}

// put sets m[k] to v when the column was not NULL.
func put(m obj, k string, v *string) {
	if v != nil {
		m[k] = *v
	}
}

// omb is a US Core race/ethnicity extension from a lookup row.
func omb(url string, cdc, desc *string) obj {
	coding := obj{"system": "urn:oid:2.16.840.1.113883.6.238", "display": *desc}
	put(coding, "code", cdc)
	return obj{"url": url, "extension": []obj{{"url": "ombCategory", "valueCoding": coding}, {"url": "text", "valueString": *desc}}}
}

func patient(pool *pgxpool.Pool, w http.ResponseWriter, r *http.Request) {
	var (
		guid, mrn, last                   string
		upd                               *time.Time
		rcCDC, rcDesc, ecCDC, ecDesc      *string
		first, middle, prefix, phone, sex *string
		addr, city, state, zip, lat, lon  *string
		dob, death                        *time.Time
	)
	err := pool.QueryRow(r.Context(), `SELECT t."PatientGUID", t."ModifiedAt", rc."CDCCode", rc."Description", ec."CDCCode", ec."Description", t."MRN", t."LastName", t."FirstName", t."MiddleName", t."Name Prefix", t."HomePhone", t."SexCode", t."DOB", t."DeathDate", t."Address1", t."City", t."StateCode", t."Zip", t."Latitude", t."Longitude" FROM dbo."PatientMaster" t LEFT JOIN dbo."RaceCode" rc ON rc."Code" = t."RaceCode" LEFT JOIN dbo."EthnicityCode" ec ON ec."Code" = t."EthnicityCode" WHERE t."PatientGUID" = $1`, r.PathValue("id")).
		Scan(&guid, &upd, &rcCDC, &rcDesc, &ecCDC, &ecDesc, &mrn, &last, &first, &middle, &prefix, &phone, &sex, &dob, &death, &addr, &city, &state, &zip, &lat, &lon)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	res := obj{"resourceType": "Patient", "id": guid,
		"meta":       meta(upd, guid, rcCDC, rcDesc, ecCDC, ecDesc, mrn, last, first, middle, prefix, phone, sex, dob, death, addr, city, state, zip, lat, lon),
		"identifier": []obj{{"use": "usual", "type": obj{"coding": []obj{{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}}}, "system": "urn:oid:2.16.840.1.113883.3.7777.2", "value": mrn}},
	}
	var ext []obj
	if rcDesc != nil {
		ext = append(ext, omb("http://hl7.org/fhir/us/core/StructureDefinition/us-core-race", rcCDC, rcDesc))
	}
	if ecDesc != nil {
		ext = append(ext, omb("http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity", ecCDC, ecDesc))
	}
	if ext != nil {
		res["extension"] = ext
	}
	name := obj{"use": "official", "family": last}
	if given := nonNull(first, middle); given != nil {
		name["given"] = given
	}
	if prefix != nil {
		name["prefix"] = []string{*prefix}
	}
	res["name"] = []obj{name}
	if phone != nil {
		res["telecom"] = []obj{{"system": "phone", "use": "home", "value": *phone}}
	}
	if g := map[string]string{"M": "male", "F": "female", "U": "unknown"}[deref(sex)]; g != "" {
		res["gender"] = g
	}
	if dob != nil {
		res["birthDate"] = dob.Format("2006-01-02")
	}
	if death != nil {
		res["deceasedDateTime"] = wall(*death)
	}
	if a := address(addr, city, state, zip, lat, lon); len(a) > 1 {
		res["address"] = []obj{a}
	}
	write(w, res)
}

// address is the home address with its geolocation extension (decimals
// keep their scale: JSON numbers from the column's text).
func address(addr, city, state, zip, lat, lon *string) obj {
	a := obj{"use": "home"}
	if addr != nil {
		a["line"] = []string{*addr}
	}
	put(a, "city", city)
	put(a, "state", state)
	put(a, "postalCode", zip)
	var geo []obj
	for _, c := range []struct {
		url string
		v   *string
	}{{"latitude", lat}, {"longitude", lon}} {
		if c.v != nil {
			geo = append(geo, obj{"url": c.url, "valueDecimal": json.Number(*c.v)})
		}
	}
	if geo != nil {
		a["extension"] = []obj{{"url": "http://hl7.org/fhir/StructureDefinition/geolocation", "extension": geo}}
	}
	return a
}

func nonNull(ss ...*string) []string {
	var out []string
	for _, s := range ss {
		if s != nil {
			out = append(out, *s)
		}
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func write(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/fhir+json")
	_ = json.NewEncoder(w).Encode(v)
}

func observations(pool *pgxpool.Pool, w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	pat := strings.TrimPrefix(q.Get("patient"), "Patient/")
	code := q.Get("code")
	if i := strings.LastIndex(code, "|"); i >= 0 {
		code = code[i+1:]
	}
	// the facade reads a partial date in the server's zone (loc)
	from, _ := time.ParseInLocation("2006", strings.TrimPrefix(q.Get("date"), "ge"), loc)
	rows, err := pool.Query(r.Context(), `SELECT t."ResultGUID", t."ModifiedAt", t."ResultStatus", t."LOINC", t."TestName", t."TestCode", t."PatientGUID", t."VisitGUID", t."CollectedAt", prov."ProviderGUID", t."OrderingProviderID", t."NumericValue", t."Units", t."TextValue", t."AbnormalFlag", t."ReferenceRange" FROM dbo."vw_LabResultDetail" t LEFT JOIN dbo."ProviderMaster" prov ON prov."ProviderKey" = t."OrderingProviderID" WHERE t."LOINC" = $1 AND t."CollectedAt" >= $2 AND t."PatientGUID" = $3 ORDER BY t."ResultGUID" LIMIT 21`, code, from, pat)
	if err != nil {
		http.Error(w, "db", 500)
		return
	}
	defer rows.Close()
	var entries []obj
	for rows.Next() {
		var l labRow
		if err := rows.Scan(&l.rid, &l.upd, &l.status, &l.loinc, &l.name, &l.test, &l.pid, &l.vid, &l.at, &l.provGUID, &l.prov, &l.num, &l.unit, &l.text, &l.flg, &l.rng); err != nil {
			http.Error(w, "db", 500)
			return
		}
		entries = append(entries, obj{"fullUrl": "http://" + r.Host + "/fhir/Observation/" + l.rid, "search": obj{"mode": "match"},
			"resource": observation(&l)})
	}
	b := obj{"resourceType": "Bundle", "type": "searchset", "link": []obj{{"relation": "self", "url": "http://" + r.Host + r.URL.String()}}}
	if entries != nil {
		b["entry"] = entries
	}
	write(w, b)
}

// labRow is one vw_LabResultDetail row with its provider's GUID.
type labRow struct {
	rid, status, test, pid                                 string
	upd, at                                                time.Time
	loinc, name, vid, provGUID, prov, num, unit, text, flg *string
	rng                                                    *string
}

// observation is one vw_LabResultDetail row as the facade's Observation.
func observation(l *labRow) obj {
	coding := obj{"system": "http://loinc.org"}
	put(coding, "code", l.loinc)
	put(coding, "display", l.name)
	o := obj{"resourceType": "Observation", "id": l.rid, "meta": meta(&l.upd),
		"status":            map[string]string{"F": "final", "P": "preliminary", "C": "corrected", "X": "cancelled"}[l.status],
		"category":          []obj{{"coding": []obj{{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}}}},
		"code":              obj{"coding": []obj{coding, {"system": "urn:oid:2.16.840.1.113883.3.7777.2.3", "code": l.test}}},
		"subject":           obj{"reference": "Patient/" + l.pid},
		"effectiveDateTime": instant(l.at),
	}
	if l.vid != nil {
		o["encounter"] = obj{"reference": "Encounter/" + *l.vid}
	}
	if l.prov != nil || l.provGUID != nil {
		p := obj{"type": "Practitioner"}
		if l.provGUID != nil {
			p["reference"] = "Practitioner/" + *l.provGUID
		}
		if l.prov != nil {
			p["identifier"] = obj{"system": "urn:oid:2.16.840.1.113883.3.7777.2.9", "value": *l.prov}
		}
		o["performer"] = []obj{p}
	}
	// as the facade's template ($when NumericValue): the view fills Units
	// from the test's default unit even for text-only results, and without
	// a number there is no Quantity
	if l.num != nil {
		q := obj{"system": "http://unitsofmeasure.org", "value": json.Number(*l.num)}
		put(q, "unit", l.unit)
		put(q, "code", l.unit)
		o["valueQuantity"] = q
	}
	put(o, "valueString", l.text)
	if l.flg != nil {
		o["interpretation"] = []obj{{"coding": []obj{{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": *l.flg}}}}
	}
	if l.rng != nil {
		o["referenceRange"] = []obj{{"text": *l.rng}}
	}
	return o
}
