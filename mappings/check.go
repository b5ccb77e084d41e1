package mappings

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// Resolver finds the main table's join column for the value a resource gave
// for the join's resolveBy column (the legacy write path looks the local
// code up from the LOINC code). It is called only for joins that resolve
// and whose resolveBy value the resource gave; v holds every decoded value.
// A value the lookup table does not know is an *backend.ElementError.
type Resolver func(j Join, v Values) (found any, err error)

// WriteValues is the whole validation of a legacy write: Decode, each join
// column resolved through resolve (and checked against the column the
// resource may also give), then the required columns. The legacy backend
// writes what it returns, and its write check (a `fhir` route's, before
// the write goes upstream) runs the same steps with the same lookups.
func (s *Spec) WriteValues(res map[string]any, resolve Resolver) (Values, error) {
	v, err := s.Decode(res)
	if err != nil {
		return nil, err
	}
	for _, j := range s.Joins {
		if j.ResolveBy == "" {
			continue
		}
		on := "t." + j.On
		if v[j.Alias+"."+j.ResolveBy] == nil {
			if _, given := v[on]; !given {
				v[on] = nil // no code to look up: PUT replaces, the key is cleared
			}
			continue
		}
		found, err := resolve(j, v)
		if err != nil {
			return nil, err
		}
		if given := v[on]; given != nil && fmt.Sprint(given) != fmt.Sprint(found) {
			return nil, &backend.ElementError{Path: s.PathOf(on), Msg: fmt.Sprintf("disagrees with the code given at %s", s.PathOf(j.Alias+"."+j.ResolveBy))}
		}
		v[on] = found
	}
	if err := s.CheckRequired(v); err != nil {
		return nil, err
	}
	if err := s.checkColumns(v); err != nil {
		return nil, err
	}
	return v, nil
}

// checkColumns refuses, by its element, a text the column cannot take:
// longer than it holds, a decimal with more digits before the point than
// its precision and scale leave once rounded to the scale (a latitude of
// 1234.5 for numeric(9,6)), or not a uuid for a uuid column (a reference
// to Encounter/xyz). The database's own refusal names no column
// (PostgreSQL's 22001, 22003 and 22P02, MariaDB's 1264), so the client got
// a 422 naming nothing, or a 409 where SQLite's foreign key caught it; and
// the fhir route's check, which runs this too, forwarded what its reverse
// mirror could not write.
func (s *Spec) checkColumns(v Values) error {
	refs := make([]string, 0, len(v))
	for ref := range v {
		refs = append(refs, ref)
	}
	sort.Strings(refs)
	for _, ref := range refs {
		str, ok := v[ref].(string)
		if !ok || !strings.HasPrefix(ref, "t.") {
			continue
		}
		col := s.live[ref]
		if n := col.MaxLen; n > 0 && utf8.RuneCountInString(str) > n {
			return &backend.ElementError{Path: s.PathOf(ref), Msg: fmt.Sprintf("is longer than the %d characters its legacy column holds", n)}
		}
		if p := col.Precision; col.Kind == sqldb.KindDecimal && p > 0 && !sqldb.FitsDecimal(strings.TrimSpace(str), p, col.Scale) {
			return &backend.ElementError{Path: s.PathOf(ref), Msg: fmt.Sprintf("has more than the %d digits before the point its legacy column holds (once rounded to %d decimal places)", p-col.Scale, col.Scale)}
		}
		if col.Kind != sqldb.KindUUID {
			continue
		}
		if _, ok := coerce(col.Kind, str); !ok {
			return &backend.ElementError{Path: s.PathOf(ref), Msg: "legacy holds a uuid here (lowercase, with hyphens): no resource has this id"}
		}
	}
	return nil
}

// SomeID is an id of this spec's form (not necessarily one that exists):
// a write check puts it in place of a reference to a resource that has no
// legacy id yet (created on the FHIR server, not mirrored so far), since
// the reverse mirror will have given it one by the time it writes the
// referring resource. ok is false if neither "1" nor "a" fits the key.
func (s *Spec) SomeID() (id string, ok bool) {
	for _, k := range []string{"1", "a"} {
		id := s.idTmpl.prefix + k + s.idTmpl.suffix
		if _, err := s.KeyOf(id); err == nil {
			return id, true
		}
	}
	return "", false
}
