package auth_test

import (
	"context"
	"strings"
	"testing"

	"github.com/fhirfacade/fhirfacade/auth"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
)

// FuzzParseScopes: whatever the scope string, grants name a known context
// and only letters of "cruds", and Decide never allows a letter no grant
// carries.
func FuzzParseScopes(f *testing.F) {
	for _, s := range []string{"patient/Observation.rs", "user/*.write", "system/*.*", "patient/Observation.rs?category=laboratory",
		"patient.all.read", "launch/patient openid", "patient/Observation.cruds?code=http://loinc.org|1234-5&date=ge2020"} {
		f.Add(s, "Observation", byte('r'))
	}
	f.Fuzz(func(t *testing.T, scope, typ string, letter byte) {
		grants := auth.ParseScopes(strings.Fields(scope))
		carried := false
		for _, g := range grants {
			if g.Context != "patient" && g.Context != "user" && g.Context != "system" {
				t.Fatalf("context %q from %q", g.Context, scope)
			}
			if g.Letters == "" || strings.Trim(g.Letters, "cruds") != "" {
				t.Fatalf("letters %q from %q", g.Letters, scope)
			}
			if (g.Type == typ || g.Type == "*") && strings.IndexByte(g.Letters, letter) >= 0 {
				carried = true
			}
		}
		if d := auth.Decide(grants, typ, letter); d.Allowed && !carried {
			t.Fatalf("%q allowed %c on %s", scope, letter, typ)
		}
	})
}

// FuzzVerify: no input the fuzzer makes out of a real token (or anything
// else) verifies, except the untouched token itself; nothing panics.
func FuzzVerify(f *testing.F) {
	is := testutil.NewIssuer(f)
	good := is.Token(f, is.Claims("alice", "system/*.rs"))
	f.Add(good)
	f.Add(is.Unsigned(f, is.Claims("alice", "system/*.rs")))
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	v := auth.NewVerifier(auth.VerifierConfig{Issuers: []string{is.URL}, Audiences: []string{is.Audience}, JWKSURL: is.JWKSURL, CacheTTL: -1})
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := v.Verify(context.Background(), raw)
		if err == nil && raw != good {
			t.Fatalf("forged token accepted: %q (%+v)", raw, p)
		}
	})
}
