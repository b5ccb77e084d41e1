// Package sample maps real rows of each spec and validates the resources
// against the R4 JSON schema: what `mappings check --sample N` runs after
// binding, to catch at check time what would fail at read time.
package sample

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/fhirschema"
	"github.com/fhirfacade/fhirfacade/mappings"
	"github.com/fhirfacade/fhirfacade/search"
)

// pageSize is how many rows one read asks for.
const pageSize = 500

// Failure is one sampled row that does not map, or maps to a resource
// that breaks the schema.
type Failure struct {
	Type, ID string
	Element  string // FHIR path: Patient.gender
	Column   string // the legacy column(s) behind it; "" when a literal
	Msg      string
}

func (f Failure) String() string {
	col := ""
	if f.Column != "" {
		col = " (column " + f.Column + ")"
	}
	el := f.Element
	if el == "" {
		el = f.Type
	}
	return fmt.Sprintf("%s/%s: %s%s: %s", f.Type, f.ID, el, col, f.Msg)
}

// Result is what sampling one type found.
type Result struct {
	Type     string
	Rows     int
	Elapsed  time.Duration // reading, mapping and validating
	Failures []Failure
}

// Run reads up to n rows of each type of reg through b (a legacy backend
// over reg, rows the spec cannot map reported rather than failing the
// page), and validates each resource with v.
func Run(ctx context.Context, b backend.Backend, reg *mappings.Registry, v *fhirschema.Validator, n int) ([]Result, error) {
	if err := v.Prepare(reg.Types()...); err != nil {
		return nil, err
	}
	var out []Result
	for _, typ := range reg.Types() {
		r, err := runType(ctx, b, reg.Spec(typ), v, n)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

func runType(ctx context.Context, b backend.Backend, s *mappings.Spec, v *fhirschema.Validator, n int) (Result, error) {
	typ := s.ResourceType
	r := Result{Type: typ}
	start := time.Now()
	cursor := ""
	for r.Rows < n {
		page, err := b.Search(ctx, typ, &search.Query{}, backend.SearchOptions{Cursor: cursor, Count: min(pageSize, n-r.Rows), Partial: true})
		if err != nil {
			return r, fmt.Errorf("sample %s: %w", typ, err)
		}
		for _, u := range page.Unmappable {
			r.Failures = append(r.Failures, Failure{Type: typ, ID: u.ID, Element: u.Path, Column: u.Column, Msg: u.Reason})
		}
		for _, res := range page.Resources {
			fs, err := v.Validate(typ, res.JSON)
			if err != nil {
				return r, fmt.Errorf("sample %s/%s: %w", typ, res.ID, err)
			}
			for _, f := range fs {
				r.Failures = append(r.Failures, Failure{Type: typ, ID: res.ID, Element: f.Path, Column: strings.Join(s.ColumnsAt(f.Path), ", "), Msg: f.Msg})
			}
		}
		r.Rows += len(page.Resources) + len(page.Unmappable)
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	r.Elapsed = time.Since(start)
	return r, nil
}
