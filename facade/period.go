package facade

import (
	"fmt"
	"time"

	"github.com/fhirfacade/fhirfacade/search"
)

// checkPeriod refuses a Period (any object with a start and an end,
// Appointment's own included) whose start comes after its end: FHIR's
// invariant per-1. Each bound is read at its own precision (2020-05 is all
// of May), so only a start wholly after its end fails. Legacy would store
// such a period as given, and a date search would then match it by one
// bound and not the other.
func checkPeriod(m map[string]any, path string) error {
	start, ok1 := m["start"].(string)
	end, ok2 := m["end"].(string)
	if !ok1 || !ok2 {
		return nil
	}
	s, err1 := search.ParseDate(start, time.UTC)
	e, err2 := search.ParseDate(end, time.UTC)
	if err1 != nil || err2 != nil || s.Prefix != search.EQ || e.Prefix != search.EQ {
		return nil // not dates: the structure check names that
	}
	if !s.Lo.Before(e.Hi) {
		return &HTTPError{Status: 422, Code: "invariant", Path: path,
			Msg: fmt.Sprintf("%s: start %s is after end %s (per-1: start SHALL be lower than or equal to end)", path, start, end)}
	}
	return nil
}
