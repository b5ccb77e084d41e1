package seed

import (
	"reflect"
	"testing"
	"time"
	_ "time/tzdata" // the reference for usLocal, whatever the host has
)

// TestUSLocal: the computed US offsets agree with the tz database hour by
// hour, across every DST switch of 2014-2026.
func TestUSLocal(t *testing.T) {
	for _, z := range []struct {
		name string
		std  int
	}{{"America/New_York", -5}, {"America/Chicago", -6}} {
		loc, err := time.LoadLocation(z.name)
		if err != nil {
			t.Fatal(err)
		}
		for at := time.Date(2014, 1, 1, 0, 0, 0, 0, time.UTC); at.Year() < 2027; at = at.Add(30 * time.Minute) {
			got := usLocal(at, z.std)
			want := at.In(loc)
			_, gotOff := got.Zone()
			_, wantOff := want.Zone()
			if gotOff != wantOff || !got.Equal(at) {
				t.Fatalf("%s at %s: offset %d, want %d", z.name, at, gotOff, wantOff)
			}
		}
	}
}

// TestEHRPatientData: a patient is the same on every call, its keys are
// distinct, and the deliberate oddities appear among the first 50 patients.
func TestEHRPatientData(t *testing.T) {
	if !reflect.DeepEqual(EHRPatientData(42), EHRPatientData(42)) {
		t.Fatal("patient 42 differs between two calls")
	}
	keys := map[string]bool{}
	seen := map[string]bool{}
	for i := 1; i <= 50; i++ {
		p := EHRPatientData(i)
		keys[p.GUID] = true
		for _, v := range p.Visits {
			keys[v.GUID] = true
		}
		for _, r := range p.Results {
			keys[r.GUID] = true
			_, off := r.CollectedAt.Zone()
			seen["offset "+time.Duration(off*int(time.Second)).String()] = true
			if r.Numeric == "" && r.Text != "" {
				seen["text only"] = true
			}
			if len(r.Numeric) > 2 && r.Numeric[len(r.Numeric)-2:] == "00" {
				seen["trailing zeros"] = true
			}
			if r.VisitGUID == "" {
				seen["no visit"] = true
			}
		}
		checks := map[string]bool{
			"NULL ModifiedAt": p.ModifiedAt == nil, "DeathDate": p.DeathDate != nil, "NULL MiddleName": p.Middle == "",
			"MiddleName": p.Middle != "", "Name Prefix": p.Prefix != "", "NULL Name Prefix": p.Prefix == "",
			"NULL DOB": p.DOB == nil, "NULL Latitude": p.Lat == "", "NULL Address1": p.Address == "",
		}
		for k, ok := range checks {
			if ok {
				seen[k] = true
			}
		}
	}
	if want := 50 * (1 + EHRVisitsPerPatient + EHRResultsPerPatient); len(keys) != want {
		t.Fatalf("%d distinct keys, want %d", len(keys), want)
	}
	for _, k := range []string{"NULL ModifiedAt", "DeathDate", "NULL MiddleName", "MiddleName", "Name Prefix", "NULL Name Prefix",
		"NULL DOB", "NULL Latitude", "NULL Address1", "text only", "trailing zeros", "no visit",
		"offset -5h0m0s", "offset -4h0m0s", "offset -6h0m0s", "offset 0s"} {
		if !seen[k] {
			t.Errorf("no patient of 1..50 shows %q", k)
		}
	}
	if got := EHRPatientGUID(1); got != EHRPatientData(1).GUID || len(got) != 36 {
		t.Fatalf("EHRPatientGUID(1) = %q", got)
	}
}
