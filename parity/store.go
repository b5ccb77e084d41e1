package parity

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/compare"
	"github.com/fhirfacade/fhirfacade/control"
)

type staging struct {
	ctl *control.Store
	run string
}

// add stages (id, hash) of a page in one statement.
func (s staging) add(ctx context.Context, side string, rs []*backend.Resource) error {
	items := make([]control.ParityItem, len(rs))
	for i, r := range rs {
		items[i] = control.ParityItem{Side: side, ID: r.ID, Hash: compare.Hash(r.JSON)}
	}
	return s.ctl.StageParity(ctx, s.run, items)
}

// join walks the full outer join of both sides, ordered by id. The
// callback reads legacy and the FHIR server, never the control store, so
// streaming holds one control connection and no memory.
func (s staging) join(ctx context.Context, fn func(id, legacyHash, fhirHash string) error) error {
	return s.ctl.JoinParity(ctx, s.run, fn)
}

func (s staging) cleanup(ctx context.Context) { s.ctl.DropParityStage(ctx, s.run) }

// store writes the report row the flip guard reads (the samples, which hold
// PHI, stay in the files a reviewer is given, not in the control store).
func store(ctx context.Context, ctl *control.Store, rep *Report, total int) (int64, error) {
	slim := *rep
	slim.Samples = nil
	body, _ := json.Marshal(slim)
	id, err := ctl.StoreParityReport(ctx, control.ParityReport{Type: rep.Type, At: rep.Finished, Passed: rep.Passed,
		Matching: int64(rep.Counts.Matching), Total: int64(total), Body: string(body)})
	if err != nil {
		return 0, fmt.Errorf("parity: %w", err)
	}
	return id, nil
}

// shadowSamples are the shadow route's recent online mismatches (paths only).
func shadowSamples(ctx context.Context, ctl *control.Store, typ string) []string {
	ms, err := ctl.ShadowMismatches(ctx, typ, 20)
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		out = append(out, fmt.Sprintf("%s/%s %s %s", typ, m.ID, m.Kind, strings.Join(m.Paths, ",")))
	}
	return out
}
