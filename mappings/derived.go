package mappings

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/fhirfacade/fhirfacade/backend"
)

// CheckDerived reports the first output-only (| derived) value a written
// resource gives that row, the row as stored by the write, does not give
// back: legacy stores no column for it, so the write would answer 200 and
// lose it (a US Core race extension whose codes come from a lookup table,
// a Location address read from its facility, a local code found from
// another coding). Human-readable renderings (display, text) are not
// compared: a client's wording of a code is not data legacy could keep
// apart from the code. row must be normalised (as Encode leaves it).
func (s *Spec) CheckDerived(res map[string]any, row Row) error {
	var cs []claim
	if _, err := s.decode(res, &cs); err != nil {
		return err
	}
	for _, c := range cs {
		if rendering(c.path) || s.derives(c, row) {
			continue
		}
		return &backend.ElementError{Path: c.path, Msg: "legacy does not store this value: it is read from other data, which gives another value (or none); leave it out or send what a read gives"}
	}
	return nil
}

// rendering tells a display or text element (of a Coding, CodeableConcept
// or Narrative) by its path.
func rendering(path string) bool {
	return strings.HasSuffix(path, ".display") || strings.HasSuffix(path, ".text")
}

// derives tells whether row renders the claimed value.
func (s *Spec) derives(c claim, row Row) bool {
	e := encoder{row: row, s: s}
	vals := e.vals(c.x)
	if c.piece {
		str, ok, err := c.x.tr.text(vals)
		return err == nil && ok && str == c.v
	}
	out, suffix, ok, err := c.x.tr.enc(nil, vals)
	if err != nil || !ok || suffix != c.suffix {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	var got any
	return dec.Decode(&got) == nil && sameJSON(got, c.v)
}
