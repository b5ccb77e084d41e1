package routing

import (
	"reflect"
	"testing"
)

// TestStatesTable: the table says what ARCHITECTURE.md's route-state
// table says, and every move it lists joins two known states, one step
// along the walk, with fhir-only reachable only one way.
func TestStatesTable(t *testing.T) {
	cases := []struct {
		st                    State
		reads, writes, mirror Side
		compare, check, final bool
		next                  []State
	}{
		{Legacy, SideLegacy, SideLegacy, "", false, false, false, []State{Shadow}},
		{Shadow, SideLegacy, SideLegacy, SideFHIR, true, false, false, []State{Legacy, FHIR}},
		{FHIR, SideFHIR, SideFHIR, SideLegacy, false, true, false, []State{Shadow, FHIROnly}},
		{FHIROnly, SideFHIR, SideFHIR, "", false, false, true, nil},
	}
	for _, c := range cases {
		m, ok := States[c.st]
		if !ok {
			t.Fatalf("%s: not in the table", c.st)
		}
		if m.Reads != c.reads || m.Writes != c.writes || m.Mirror != c.mirror || m.Compare != c.compare || m.CheckWrites != c.check || m.Final != c.final {
			t.Errorf("%s: %+v", c.st, m)
		}
		if got := NextStates(c.st); !reflect.DeepEqual(got, c.next) {
			t.Errorf("%s: next %v, want %v", c.st, got, c.next)
		}
		if len(m.Steps) == 0 {
			t.Errorf("%s: no dry-run steps", c.st)
		}
	}
	if len(States) != len(cases) || len(stateOrder) != len(cases) {
		t.Fatalf("%d states in the table, %d in the walk order, %d here", len(States), len(stateOrder), len(cases))
	}
	for mv, tr := range Transitions {
		if _, ok := States[mv[0]]; !ok {
			t.Errorf("%v: unknown state", mv)
		}
		if States[mv[0]].Final {
			t.Errorf("%v: a move out of a final state", mv)
		}
		if tr.Drain != "" && tr.Drain != States[mv[0]].Mirror {
			t.Errorf("%v: drains toward %s, but %s mirrors to %q", mv, tr.Drain, mv[0], States[mv[0]].Mirror)
		}
	}
	if _, err := ParseState("sideways"); err == nil {
		t.Fatal("unknown state accepted")
	}
}
