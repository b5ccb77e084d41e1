package facade_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/fhirfacade/fhirfacade/internal/testutil"
)

// TestXMLRefusedEverywhere: the facade serves JSON only, and says so the
// same way on every endpoint: asking for XML (_format or Accept) is 406,
// sending XML is 415, each with an OperationOutcome that lists the JSON
// media types; asking for JSON in any of its spellings is served.
func TestXMLRefusedEverywhere(t *testing.T) {
	e := newEnv(t, testutil.SQLite)
	patient := `{"resourceType":"Patient","id":"1","name":[{"family":"Format"}]}`
	xmlBody := `<Patient xmlns="http://hl7.org/fhir"><name><family value="Format"/></name></Patient>`
	type endpoint struct {
		name, method, path, body string
	}
	endpoints := []endpoint{
		{"metadata", "GET", "/fhir/metadata", ""},
		{"read", "GET", "/fhir/Patient/1", ""},
		{"search", "GET", "/fhir/Patient?family=a", ""},
		{"search POST", "POST", "/fhir/Patient/_search", ""},
		{"create", "POST", "/fhir/Patient", patient},
		{"update", "PUT", "/fhir/Patient/1", patient},
		{"delete", "DELETE", "/fhir/Patient/999999", ""},
		{"unknown type", "GET", "/fhir/Nope/1", ""},
	}
	asks := []struct {
		name string
		q    string
		hdr  []string
		want int
	}{
		{"_format=xml", "_format=xml", nil, 406},
		{"_format=application/fhir+xml", "_format=application/fhir%2Bxml", nil, 406},
		{"_format=text/xml", "_format=text/xml", nil, 406},
		{"Accept fhir+xml", "", []string{"Accept", "application/fhir+xml"}, 406},
		{"Accept xml", "", []string{"Accept", "application/xml, text/xml"}, 406},
		{"Accept json at q=0 only", "", []string{"Accept", "application/fhir+json;q=0, application/fhir+xml"}, 406},
	}
	for _, ep := range endpoints {
		for _, a := range asks {
			path := ep.path
			if a.q != "" {
				path += map[bool]string{true: "&", false: "?"}[strings.Contains(path, "?")] + a.q
			}
			r := e.do(ep.method, path, ep.body, a.hdr...)
			e.wantStatus(r, a.want, ep.name+" "+a.name)
			wantJSONListed(t, r, ep.name+" "+a.name)
		}
		// an XML body is refused before anything is read or written
		if ep.method == "POST" || ep.method == "PUT" {
			for _, ct := range []string{"application/fhir+xml", "application/xml; charset=utf-8", "text/xml"} {
				r := e.do(ep.method, ep.path, xmlBody, "Content-Type", ct)
				e.wantStatus(r, 415, ep.name+" body "+ct)
				wantJSONListed(t, r, ep.name+" body "+ct)
			}
		}
	}
	// _format in a POST _search form body counts as in the URL
	form := func(f string) resp {
		return e.do("POST", "/fhir/Patient/_search", "family=a&_format="+f, "Content-Type", "application/x-www-form-urlencoded")
	}
	e.wantStatus(form("xml"), 406, "_search form _format=xml")
	e.wantStatus(form("json"), 200, "_search form _format=json")
	// every JSON spelling is served (read, metadata)
	for _, ask := range []struct{ q, accept string }{
		{"_format=json", ""}, {"_format=application/fhir%2Bjson", ""}, {"_format=application/json", ""},
		{"", "application/fhir+json"}, {"", "application/json"}, {"", "application/json+fhir"},
		{"", "application/fhir+xml;q=0.9, application/fhir+json;q=0.8"}, {"", "*/*"},
	} {
		for _, p := range []string{"/fhir/Patient/1", "/fhir/metadata"} {
			path := p
			if ask.q != "" {
				path += "?" + ask.q
			}
			var hdr []string
			if ask.accept != "" {
				hdr = []string{"Accept", ask.accept}
			}
			e.wantStatus(e.get(path, hdr...), 200, path+" Accept "+ask.accept)
		}
	}
}

// wantJSONListed: the refusal names every JSON media type the client may use.
func wantJSONListed(t *testing.T, r resp, what string) {
	t.Helper()
	msg := string(r.raw)
	for _, mt := range []string{"application/fhir+json", "application/json"} {
		if !strings.Contains(msg, mt) {
			t.Errorf("%s: the OperationOutcome does not list %s: %s", what, mt, msg)
		}
	}
}

// TestFHIRVersion: the fhirVersion media-type parameter (R4
// http.html#version-parameter) is honoured on every endpoint: R4's (4.0,
// or 4.0.0 and 4.0.1) is served, another version asked for in Accept or
// _format is 406, sent as a body's Content-Type is 415 — before anything
// is read or written — each saying which version was asked for and which
// one is served.
func TestFHIRVersion(t *testing.T) {
	e := newEnv(t, testutil.SQLite)
	json := "application/fhir+json; fhirVersion="
	cases := []struct {
		name, method, path, accept, ct string
		want                           int
	}{
		{"read 4.0", "GET", "/fhir/Patient/1", json + "4.0", "", 200},
		{"read 4.0.1", "GET", "/fhir/Patient/1", json + "4.0.1", "", 200},
		{"read 4.0.0, plain JSON", "GET", "/fhir/Patient/1", "application/json; fhirVersion=4.0.0", "", 200},
		{"read 3.0", "GET", "/fhir/Patient/1", json + "3.0", "", 406},
		{"read 4.3 (R4B)", "GET", "/fhir/Patient/1", json + "4.3", "", 406},
		{"read 5.0, any type", "GET", "/fhir/Patient/1", "*/*; fhirVersion=5.0", "", 406},
		{"read 3.0 or 4.0", "GET", "/fhir/Patient/1", json + "3.0, " + json + "4.0;q=0.5", "", 200},
		{"metadata 3.0", "GET", "/fhir/metadata", json + "3.0", "", 406},
		{"metadata 4.0", "GET", "/fhir/metadata", json + "4.0", "", 200},
		{"search 1.0", "GET", "/fhir/Patient?family=a", json + "1.0", "", 406},
		{"_format 3.0", "GET", "/fhir/Patient/1?_format=" + url.QueryEscape(json+"3.0"), "", "", 406},
		{"_format json 4.0", "GET", "/fhir/Patient/1?_format=" + url.QueryEscape("json;fhirVersion=4.0"), "", "", 200},
		{"create 3.0", "POST", "/fhir/Patient", "", json + "3.0", 415},
		{"create 4.0", "POST", "/fhir/Patient", "", json + "4.0", 201},
		{"create 4.0.1, answer 3.0", "POST", "/fhir/Patient", json + "3.0", json + "4.0.1", 406},
		{"_search form 3.0", "POST", "/fhir/Patient/_search", "", "application/x-www-form-urlencoded; fhirVersion=3.0", 415},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			var b string
			switch {
			case c.method == "POST" && c.path == "/fhir/Patient":
				b = fmt.Sprintf(newPatient, 900000+i)
			case c.method == "POST":
				b = "family=a"
			}
			var hdr []string
			if c.accept != "" {
				hdr = append(hdr, "Accept", c.accept)
			}
			if c.ct != "" {
				hdr = append(hdr, "Content-Type", c.ct)
			}
			r := e.do(c.method, c.path, b, hdr...)
			e.wantStatus(r, c.want, c.name)
			if c.want >= 400 && (!strings.Contains(outcomeText(r), "fhirVersion=") || !strings.Contains(outcomeText(r), "R4")) {
				t.Fatalf("the outcome does not name the version asked for and the one served: %s", r.raw)
			}
		})
	}
	e.t = t
	// nothing refused was stored: one create went through
	if got := e.get("/fhir/Patient?_total=accurate&_count=0"); got.body["total"] != float64(patients+1) {
		t.Fatalf("%v patients after the creates, want %d", got.body["total"], patients+1)
	}
}

// TestRefusalQuotesValidUTF8: a 406 names the client's Accept cut to a
// bound at a character boundary: a value cut mid-character read back as
// U+FFFD in the OperationOutcome.
func TestRefusalQuotesValidUTF8(t *testing.T) {
	e := newEnv(t, testutil.SQLite)
	for _, tc := range []struct{ name, accept string }{
		// 21 bytes, then 2-byte runes: byte 100 falls inside one
		{"cut inside a rune", "application/fhir+xml," + strings.Repeat("é", 60)},
		{"cut on a boundary", "application/fhir+xml, " + strings.Repeat("é", 60)},
	} {
		r := e.do("GET", "/fhir/metadata", "", "Accept", tc.accept)
		e.wantStatus(r, 406, tc.name)
		if strings.Contains(string(r.raw), "\\ufffd") || strings.ContainsRune(string(r.raw), '\uFFFD') {
			t.Errorf("%s: the refusal quotes a cut character: %s", tc.name, r.raw)
		}
	}
}
