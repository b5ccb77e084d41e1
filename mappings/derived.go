package mappings

import (
	"bytes"
	"encoding/json"
	"math/big"
	"strings"

	"github.com/fhirfacade/fhirfacade/backend"
)

// CheckStored reports the first value a written resource gives that row,
// the row as stored by the write, does not give back: an exact number the
// column rounded (to its scale), or an output-only (| derived) value —
// legacy stores no column for it, so the write would answer 200 and lose
// it (a US Core race extension whose codes come from a lookup table,
// a Location address read from its facility, a local code found from
// another coding). Human-readable renderings (display, text) are not
// compared: a client's wording of a code is not data legacy could keep
// apart from the code. row must be normalised (as Encode leaves it).
func (s *Spec) CheckStored(res map[string]any, row Row) error {
	var cs []claim
	if _, err := s.decode(res, &cs); err != nil {
		return err
	}
	for _, c := range cs {
		switch {
		case c.number:
			if !s.keeps(c, row) {
				return &backend.ElementError{Path: c.path, Msg: "has more digits than the legacy column keeps (it would be rounded)"}
			}
		case !rendering(c.path) && !s.derives(c, row):
			return &backend.ElementError{Path: c.path, Msg: "legacy does not store this value: it is read from other data, which gives another value (or none); leave it out or send what a read gives"}
		}
	}
	return nil
}

// keeps tells whether row holds the claimed number exactly (5.40 keeps
// 5.4; a scale-6 column rounds 35.1133291234).
func (s *Spec) keeps(c claim, row Row) bool {
	e := encoder{row: row, s: s}
	str, ok, err := c.x.tr.text(e.vals(c.x))
	n, isNum := c.v.(json.Number)
	if err != nil || !ok || !isNum {
		return false
	}
	got, ok1 := new(big.Rat).SetString(str)
	want, ok2 := new(big.Rat).SetString(n.String())
	return ok1 && ok2 && got.Cmp(want) == 0
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
