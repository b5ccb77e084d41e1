package mappings

import (
	"testing"

	"github.com/google/uuid"

	"github.com/fhirfacade/fhirfacade/sqldb"
)

// TestCoerceUUID: a uuid column matches only the canonical spelling (an
// id is case-sensitive; another spelling of the same uuid is another id).
func TestCoerceUUID(t *testing.T) {
	u := uuid.NewString()
	cases := []struct {
		v  string
		ok bool
	}{
		{u, true},
		{"0dc9846a-d776-54aa-9311-b071539b0dab", true},
		{"0DC9846A-D776-54AA-9311-B071539B0DAB", false},
		{"0dc9846a-d776-54aa-9311-b071539b0daB", false},
		{"{0dc9846a-d776-54aa-9311-b071539b0dab}", false},
		{"urn:uuid:0dc9846a-d776-54aa-9311-b071539b0dab", false},
		{"0dc9846ad77654aa9311b071539b0dab", false},
		{"0dc9846a-d776-54aa-9311-b071539b0dag", false},
		{"0dc9846a+d776-54aa-9311-b071539b0dab", false},
		{"", false},
		{"123", false},
	}
	for _, c := range cases {
		got, ok := coerce(sqldb.KindUUID, c.v)
		if ok != c.ok || ok && got != c.v {
			t.Errorf("coerce(uuid, %q) = %v, %v; want ok=%v", c.v, got, ok, c.ok)
		}
		// the definition it stands for: what uuid.String gives back
		p, err := uuid.Parse(c.v)
		if canonical := err == nil && p.String() == c.v; canonical != c.ok {
			t.Errorf("%q: canonical %v but case says %v", c.v, canonical, c.ok)
		}
	}
}
