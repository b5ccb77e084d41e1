// Package legacy is the Backend that serves FHIR resources from legacy SQL
// tables through the mapping specs: reads and searches become one
// parameterised statement per page; writes go through the specs' write-back
// rules in one transaction.
package legacy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/mappings"
	"github.com/fhirfacade/fhirfacade/search"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// Backend serves the mapped types from a legacy database.
type Backend struct {
	db  *sqldb.DB
	reg *mappings.Registry
	now func() time.Time
	// read runs reads, searches and counts outside a write transaction:
	// the database's Reader (native pgx on PostgreSQL).
	read sqldb.Reader
}

var (
	_ backend.Backend       = (*Backend)(nil)
	_ backend.WriteChecker  = (*Backend)(nil)
	_ backend.DeleteChecker = (*Backend)(nil)
)

// New returns a legacy backend over db with the given specs.
func New(db *sqldb.DB, reg *mappings.Registry) *Backend {
	return &Backend{db: db, reg: reg, now: time.Now, read: db.Reader()}
}

// Name implements backend.Backend.
func (b *Backend) Name() string { return "legacy" }

// Ping implements backend.Backend.
func (b *Backend) Ping(ctx context.Context) error { return b.db.PingContext(ctx) }

func (b *Backend) spec(typ string) (*mappings.Spec, error) {
	s := b.reg.Spec(typ)
	if s == nil {
		return nil, fmt.Errorf("%w: resource type %s is not mapped", backend.ErrNotSupported, typ)
	}
	return s, nil
}

func (b *Backend) encode(s *mappings.Spec, row mappings.Row) (*backend.Resource, error) {
	js, m, err := s.Encode(make([]byte, 0, 1024), row)
	if err != nil {
		return nil, err
	}
	return &backend.Resource{Type: s.ResourceType, ID: m.ID, VersionID: m.VersionID, LastUpdated: m.LastUpdated, JSON: js}, nil
}

// dbErr hides driver text (which may hold SQL or values) behind a sentinel;
// the detail stays in the wrapped chain for the server log only.
func dbErr(op string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%w: legacy %s: %s", backend.ErrUnavailable, op, sqldb.Describe(err))
}

func (b *Backend) readRow(ctx context.Context, r sqldb.Reader, s *mappings.Spec, id string) (mappings.Row, error) {
	st, err := s.ReadStmt(b.db.Dialect, id)
	if errors.Is(err, search.ErrNoMatch) {
		return nil, fmt.Errorf("%w: %s/%s", backend.ErrNotFound, s.ResourceType, id)
	}
	if err != nil {
		return nil, err
	}
	rs, err := r.QueryRows(ctx, st.SQL, st.Args, s.NumCols())
	if err != nil {
		return nil, dbErr("read", err)
	}
	if len(rs) == 0 {
		return nil, fmt.Errorf("%w: %s/%s", backend.ErrNotFound, s.ResourceType, id)
	}
	if len(rs) > 1 {
		// a composite key's id whose separator occurs inside a value can
		// name two rows: never serve one of them at random
		return nil, fmt.Errorf("%w: %s/%s names %d legacy rows (its key columns' values contain the id's separator)", backend.ErrConflict, s.ResourceType, id, len(rs))
	}
	return rs[0], nil
}

// Read implements backend.Backend.
func (b *Backend) Read(ctx context.Context, typ, id string) (*backend.Resource, error) {
	s, err := b.spec(typ)
	if err != nil {
		return nil, err
	}
	row, err := b.readRow(ctx, b.reader(ctx), s, id)
	if err != nil {
		return nil, err
	}
	return b.encode(s, row)
}

// Search implements backend.Backend.
func (b *Backend) Search(ctx context.Context, typ string, q *search.Query, opts backend.SearchOptions) (*backend.SearchResult, error) {
	s, err := b.spec(typ)
	if err != nil {
		return nil, err
	}
	req := mappings.SearchRequest{Query: q, Limit: opts.Count + 1, Strict: opts.Strict, Now: b.now()}
	if opts.Cursor != "" {
		var c mappings.Cursor
		if err := json.Unmarshal([]byte(opts.Cursor), &c); err != nil {
			return nil, fmt.Errorf("%w: page position is malformed", backend.ErrInvalid)
		}
		req.After = &c
	}
	res := &backend.SearchResult{}
	if opts.Total {
		st, err := s.CountStmt(b.db.Dialect, req)
		if err != nil {
			return nil, translate(err)
		}
		n, err := b.reader(ctx).QueryInt(ctx, st.SQL, st.Args)
		if err != nil {
			return nil, dbErr("count", err)
		}
		res.Total = &n
	}
	if opts.Count == 0 {
		return res, nil
	}
	st, ignored, err := s.SearchStmt(b.db.Dialect, req)
	if err != nil {
		return nil, translate(err)
	}
	res.Ignored = ignored
	rs, err := b.reader(ctx).QueryRows(ctx, st.SQL, st.Args, s.NumCols())
	if err != nil {
		return nil, dbErr("search", err)
	}
	if len(rs) > opts.Count {
		rs = rs[:opts.Count]
		c, err := s.CursorAfter(rs[len(rs)-1], q.Sort)
		if err != nil {
			return nil, translate(err)
		}
		js, _ := json.Marshal(c)
		res.Next = string(js)
	}
	// one buffer for the whole page: rows are encoded back to back
	buf := make([]byte, 0, 1024*len(rs))
	for _, row := range rs {
		start := len(buf)
		var m mappings.Meta
		buf, m, err = s.Encode(buf, row)
		if err != nil {
			if !opts.Partial {
				return nil, err
			}
			id := s.IDOfRow(row)
			u := backend.Unmappable{ID: id, Reason: err.Error(), Public: typ + "/" + id + ": cannot be mapped"}
			var re *backend.RowError
			if errors.As(err, &re) {
				u.Public, u.Path, u.Column = re.Public(), re.Path, re.Column
			}
			res.Unmappable = append(res.Unmappable, u)
			continue
		}
		res.Resources = append(res.Resources, &backend.Resource{Type: typ, ID: m.ID, VersionID: m.VersionID, LastUpdated: m.LastUpdated, JSON: buf[start:len(buf):len(buf)]})
	}
	return res, nil
}

// translate maps engine errors onto backend sentinels.
func translate(err error) error {
	switch {
	case errors.Is(err, mappings.ErrUnknownParam), errors.Is(err, search.ErrInvalid):
		return fmt.Errorf("%w: %w", backend.ErrInvalid, err)
	case errors.Is(err, mappings.ErrUnsupported):
		return err // already a backend.ErrNotSupported
	case errors.Is(err, mappings.ErrUnprocessable):
		return fmt.Errorf("%w: %w", backend.ErrUnprocessable, err)
	}
	return err
}
