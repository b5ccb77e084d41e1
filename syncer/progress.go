package syncer

import (
	"context"
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/search"
)

// TerminalProgress is a progress bar (rows done, rate, time left) when w is
// a terminal, and nil otherwise (callers then use PlainProgress). The total
// comes from one COUNT of the legacy rows the run will read.
func TerminalProgress(ctx context.Context, w *os.File, legacy backend.Backend, typ string) func(Progress) {
	if !term.IsTerminal(int(w.Fd())) {
		return nil
	}
	total := -1
	if res, err := legacy.Search(ctx, typ, &search.Query{}, backend.SearchOptions{Total: true}); err == nil && res.Total != nil {
		total = *res.Total
	}
	bar := progressbar.NewOptions(total,
		progressbar.OptionSetWriter(io.Writer(w)),
		progressbar.OptionSetDescription("sync "+typ),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("resources"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100_000_000),
		progressbar.OptionOnCompletion(func() { _, _ = io.WriteString(w, "\n") }),
	)
	return func(p Progress) { _ = bar.Set(p.Done + p.Failed) }
}
