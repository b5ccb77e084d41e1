package routing

import (
	"fmt"
	"strings"
)

// Side is one of the two systems of record.
type Side string

// The sides (also the outbox's mirror targets).
const (
	SideLegacy Side = "legacy"
	SideFHIR   Side = "fhir"
)

// Meaning is what a route state means — read by the router (where reads
// and writes go, what is mirrored and checked), the guard and the dry run
// (the moves and their steps), the drainer (whether the reverse mirror
// still runs) and the CLI. It is the one place a state's meaning is
// written down; nothing else compares state names.
type Meaning struct {
	Reads  Side // serves reads
	Writes Side // takes writes
	// Mirror is where writes are copied through the outbox ("" none).
	Mirror Side
	// Compare: a sample of reads is also read from FHIR and compared.
	Compare bool
	// CheckWrites: writes are checked against the legacy write-back
	// mapping first, so that the state stays reversible.
	CheckWrites bool
	// Final: there is no move out of this state (legacy is retired).
	Final bool
	// Steps is what a dry run of a move into this state prints.
	Steps []string
}

// States is the table of route states.
var States = map[State]Meaning{
	Legacy: {Reads: SideLegacy, Writes: SideLegacy,
		Steps: []string{"reads and writes on legacy only; no mirroring"}},
	Shadow: {Reads: SideLegacy, Writes: SideLegacy, Mirror: SideFHIR, Compare: true,
		Steps: []string{"reads stay on legacy; a sample is also read from FHIR and compared", "writes go to legacy and are mirrored to FHIR through the outbox"}},
	FHIR: {Reads: SideFHIR, Writes: SideFHIR, Mirror: SideLegacy, CheckWrites: true,
		Steps: []string{"reads and writes go to FHIR", "writes are mirrored back to legacy (reverse sync) so rollback to shadow stays possible", "writes legacy could not hold are refused (422) unless sent with Prefer: handling=lenient"}},
	FHIROnly: {Reads: SideFHIR, Writes: SideFHIR, Final: true,
		Steps: []string{"reads and writes on FHIR only; the reverse mirror to legacy stops", "this cannot be undone"}},
}

// stateOrder is the walk's order (for messages and listings).
var stateOrder = []State{Legacy, Shadow, FHIR, FHIROnly}

// guard names a check a move must pass.
type guard int

const (
	noGuard guard = iota
	// parityGuard: the newest parity report must pass, be newer than the
	// last sync and than the move to shadow (forceable).
	parityGuard
	// unmirroredGuard: no write made on FHIR may be missing from legacy
	// (failed or unmirrorable reverse-mirror rows; forceable).
	unmirroredGuard
	// confirmGuard: the point of no return needs --confirm (not forceable).
	confirmGuard
)

// Transition is what a move between two states needs.
type Transition struct {
	guard guard
	// Drain: the mirror queue toward this side must be empty before the
	// move commits, so the new system of record has every earlier write.
	Drain Side
	// Steps replace the target state's steps when the move has its own.
	Steps []string
}

// Transitions lists the moves; a move not listed is refused.
var Transitions = map[[2]State]Transition{
	{Legacy, Shadow}: {},
	{Shadow, Legacy}: {},
	{Shadow, FHIR}:   {guard: parityGuard, Drain: SideFHIR},
	{FHIR, Shadow}: {guard: unmirroredGuard, Drain: SideLegacy,
		Steps: []string{"reads and writes return to legacy (kept current by the reverse mirror)", "writes are mirrored to FHIR through the outbox"}},
	{FHIR, FHIROnly}: {guard: confirmGuard},
}

// NextStates lists the states one move away from s, in walk order.
func NextStates(s State) []State {
	var out []State
	for _, to := range stateOrder {
		if _, ok := Transitions[[2]State{s, to}]; ok {
			out = append(out, to)
		}
	}
	return out
}

// steps is what a dry run of from → to prints.
func (t Transition) steps(to State) []string {
	if t.Steps != nil {
		return append([]string(nil), t.Steps...)
	}
	return append([]string(nil), States[to].Steps...)
}

// ParseState validates a state name.
func ParseState(s string) (State, error) {
	if _, ok := States[State(s)]; ok {
		return State(s), nil
	}
	names := make([]string, len(stateOrder))
	for i, st := range stateOrder {
		names[i] = string(st)
	}
	return "", fmt.Errorf("%w: state %q (want %s)", ErrUnknown, s, strings.Join(names, ", "))
}
