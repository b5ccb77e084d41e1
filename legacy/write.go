package legacy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/mappings"
	"github.com/fhirfacade/fhirfacade/search"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// values decodes a resource for write-back and resolves its lookups (the
// mapping's WriteValues, with the lookups run in tx).
func (b *Backend) values(ctx context.Context, tx sqldb.Queryer, s *mappings.Spec, body map[string]any) (mappings.Values, error) {
	v, err := s.WriteValues(body, func(j mappings.Join, v mappings.Values) (any, error) {
		st, _ := s.ResolveStmt(b.db.Dialect, j, v)
		var found any
		err := tx.QueryRowContext(ctx, st.SQL, st.Args...).Scan(&found)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, &backend.ElementError{Path: s.PathOf(j.Alias + "." + j.ResolveBy), Msg: fmt.Sprintf("%v is not a code legacy knows here (its code table has no such entry)", v[j.Alias+"."+j.ResolveBy])}
		}
		if err != nil {
			return nil, dbErr("lookup", err)
		}
		if fs, ok := found.([]byte); ok {
			found = string(fs)
		}
		return found, nil
	})
	if err != nil {
		return nil, translate(err)
	}
	return v, nil
}

// CheckWrite implements backend.WriteChecker: what a write of body would
// be refused for, found without writing. It runs the write's own
// validation (values: the mapping's WriteValues, lookups included), then
// the write's check of what the stored row gives back (CheckStored) on the
// row the write would leave (mappings.Spec.PlannedRow): for an update the
// current row of id, read now; id "", or one legacy has no row for, is a
// create, which starts from nothing. First of all, a create or update the
// spec does not allow for the type is refused as the write refuses it
// (InteractionError). A decimal the column would round, or one with more
// digits before the point than its precision leaves, is refused here
// where introspection found the column's scale and precision (PostgreSQL,
// MariaDB, SQL Server; SQLite keeps the digits). What only the write can tell (a
// missing referenced row, a taken unique value) is not refused here.
func (b *Backend) CheckWrite(ctx context.Context, typ, id string, body map[string]any) error {
	s, err := b.spec(typ)
	if err != nil {
		return err
	}
	r := b.reader(ctx)
	var old mappings.Row
	if id != "" {
		old, err = b.readRow(ctx, r, s, id)
		if err != nil && !errors.Is(err, backend.ErrNotFound) {
			return err
		}
	}
	switch {
	case old != nil && !s.WriteBack.Update:
		return refused(s, "update")
	case old == nil && !s.WriteBack.Create:
		return refused(s, "create")
	}
	var q sqldb.Queryer = b.db
	if u := b.unitOf(ctx); u != nil {
		q = u
	}
	v, err := b.values(ctx, q, s, body)
	if err != nil {
		return err
	}
	row, err := s.PlannedRow(b.db.Dialect, old, v, func(st mappings.Stmt, n int) ([]any, error) {
		rs, err := r.QueryRows(ctx, st.SQL, st.Args, n)
		if err != nil {
			return nil, dbErr("lookup", err)
		}
		if len(rs) == 0 {
			return nil, nil
		}
		return rs[0], nil
	})
	if err != nil {
		return translate(err)
	}
	return translate(s.CheckStored(body, row))
}

// stamp is the new last-updated value: now, but always after old, so that
// every write changes the version even within one millisecond.
func (b *Backend) stamp(s *mappings.Spec, old *mappings.DateTimeVal) mappings.DateTimeVal {
	l := b.now().In(s.Location()).Truncate(time.Millisecond)
	t := time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC)
	if old != nil && !t.After(old.Time) {
		t = old.Time.Truncate(time.Millisecond).Add(time.Millisecond)
	}
	return mappings.DateTimeVal{Time: t}
}

// errRace is a lost optimistic race that a rerun of the transaction resolves.
var errRace = errors.New("concurrent update")

// inTx runs fn in a transaction and retries it on serialization failures
// and lost optimistic races.
func (b *Backend) inTx(ctx context.Context, fn func(tx sqlConn) error) error {
	if u := b.unitOf(ctx); u != nil {
		// inside Transact: join its transaction; a retry re-runs the whole
		// unit, so a retryable failure is remembered for Transact to see
		// (the caller between may have turned it into any answer)
		err := fn(u)
		if err != nil && (sqldb.IsRetryable(err) || errors.Is(err, errRace)) {
			u.retry = err
		}
		return err
	}
	return b.retryTx(ctx, func(tx *sql.Tx) error { return fn(tx) })
}

// retryTx runs fn in a new transaction and retries it on serialization
// failures and lost optimistic races.
func (b *Backend) retryTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	var err error
	for attempt := 0; attempt < 8; attempt++ {
		var tx *sql.Tx
		tx, err = b.db.BeginTx(ctx, nil)
		if err != nil {
			return dbErr("begin", err)
		}
		err = fn(tx)
		if err == nil {
			err = tx.Commit()
			if err == nil {
				return nil
			}
			err = dbErr("commit", err)
		} else {
			_ = tx.Rollback()
		}
		if !sqldb.IsRetryable(err) && !errors.Is(err, errRace) {
			return err
		}
	}
	if errors.Is(err, errRace) {
		return fmt.Errorf("%w: the resource kept changing while it was being updated; try again", backend.ErrConflict)
	}
	return err
}

func constraintErr(s *mappings.Spec, err error) error {
	if sqldb.IsConstraint(err) {
		return fmt.Errorf("%w: %s: the legacy database refused the change (a referenced row is missing, or other rows refer to this one, or a unique value is taken)", backend.ErrConflict, s.ResourceType)
	}
	if sqldb.IsDataError(err) {
		return fmt.Errorf("%w: %s: a value is too long or out of range for its legacy column", backend.ErrUnprocessable, s.ResourceType)
	}
	return dbErr("write", err)
}

// stored encodes the row a write left and checks that it gives back the
// output-only values and exact numbers body gave (mappings.Spec.CheckStored):
// otherwise the write is refused and its transaction rolled back, so
// nothing is lost or rounded behind a 200.
func (b *Backend) stored(s *mappings.Spec, row mappings.Row, body map[string]any) (*backend.Resource, error) {
	res, err := b.encode(s, row)
	if err != nil {
		return nil, err
	}
	if err := s.CheckStored(body, row); err != nil {
		return nil, translate(err)
	}
	return res, nil
}

// Create implements backend.Backend.
func (b *Backend) Create(ctx context.Context, typ string, body map[string]any, ifNoneExist *search.Query) (*backend.Resource, bool, error) {
	s, err := b.spec(typ)
	if err != nil {
		return nil, false, err
	}
	if !s.WriteBack.Create {
		return nil, false, refused(s, "create")
	}
	var res *backend.Resource
	created := false
	err = b.inTx(ctx, func(tx sqlConn) error {
		if ifNoneExist != nil {
			// the search runs in the write transaction, so a concurrent
			// conditional create of the same resource waits or retries
			st, _, err := s.SearchStmt(b.db.Dialect, mappings.SearchRequest{Query: ifNoneExist, Limit: 2, Strict: true, Now: b.now()})
			if err != nil {
				return translate(err)
			}
			rs, err := sqldb.SQLReader(tx).QueryRows(ctx, st.SQL, st.Args, s.NumCols())
			if err != nil {
				return dbErr("search", err)
			}
			if len(rs) > 1 {
				return fmt.Errorf("%w: If-None-Exist matches more than one %s", backend.ErrPreconditionFailed, typ)
			}
			if len(rs) == 1 {
				res, err = b.encode(s, rs[0])
				return err
			}
		}
		v, err := b.values(ctx, tx, s, body)
		if err != nil {
			return err
		}
		st := s.InsertStmt(b.db.Dialect, v, b.stamp(s, nil))
		key, err := sqldb.InsertKey(ctx, tx, b.db.Dialect, st.SQL, st.Args...)
		if err != nil {
			return constraintErr(s, err)
		}
		id, err := s.IDOf(key)
		if err != nil {
			return err
		}
		row, err := b.readRow(ctx, sqldb.SQLReader(tx), s, id)
		if err != nil {
			return err
		}
		if res, err = b.stored(s, row, body); err != nil {
			return err
		}
		created = true
		return nil
	})
	return res, created, err
}

// Update implements backend.Backend. An id legacy has no row for is an
// update-as-create (createAs).
func (b *Backend) Update(ctx context.Context, typ, id string, body map[string]any, ifMatch string) (*backend.Resource, bool, error) {
	s, err := b.spec(typ)
	if err != nil {
		return nil, false, err
	}
	if !s.WriteBack.Update && !(s.GivenKeys() && s.WriteBack.Create) {
		return nil, false, refused(s, "update")
	}
	key, err := s.KeyOf(id)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %s ids are assigned by the legacy database; %q cannot be one", backend.ErrNotSupported, typ, id)
	}
	var res *backend.Resource
	created := false
	err = b.inTx(ctx, func(tx sqlConn) error {
		created = false // a rerun may take the other branch
		row, err := b.readRow(ctx, sqldb.SQLReader(tx), s, id)
		if errors.Is(err, backend.ErrNotFound) {
			res, err = b.createAs(ctx, tx, s, key, id, body, ifMatch)
			created = err == nil
			return err
		}
		if err != nil {
			return err
		}
		if !s.WriteBack.Update {
			return refused(s, "update")
		}
		res, err = b.update(ctx, tx, s, key, id, row, body, ifMatch)
		return err
	})
	return res, created, err
}

// update replaces the existing row of id (read as row in tx).
func (b *Backend) update(ctx context.Context, tx sqlConn, s *mappings.Spec, key any, id string, row mappings.Row, body map[string]any, ifMatch string) (*backend.Resource, error) {
	typ := s.ResourceType
	old, err := s.StampOf(row)
	if err != nil {
		return nil, err
	}
	cur, err := s.RowMeta(row)
	if err != nil {
		return nil, err
	}
	if ifMatch != "" && ifMatch != cur.VersionID {
		return nil, fmt.Errorf("%w: %s/%s is at version %s, not %s", backend.ErrPreconditionFailed, typ, id, cur.VersionID, ifMatch)
	}
	v, err := b.values(ctx, tx, s, body)
	if err != nil {
		return nil, err
	}
	st := s.UpdateStmt(b.db.Dialect, key, v, old, b.stamp(s, &old))
	r, err := tx.ExecContext(ctx, st.SQL, st.Args...)
	if err != nil {
		return nil, constraintErr(s, err)
	}
	if n, _ := r.RowsAffected(); n != 1 {
		// someone else committed between our read and our write: with
		// If-Match the client must decide; without it the last writer
		// wins, so the whole transaction runs again on the new row
		if ifMatch != "" {
			return nil, fmt.Errorf("%w: %s/%s is no longer at version %s", backend.ErrPreconditionFailed, typ, id, ifMatch)
		}
		return nil, errRace
	}
	row, err = b.readRow(ctx, sqldb.SQLReader(tx), s, id)
	if err != nil {
		return nil, err
	}
	return b.stored(s, row, body)
}

// createAs is an update of an id legacy has no row for (update-as-create):
// the row is inserted under the id's own key when the spec's keys may be
// given (a uuid key, mappings.Spec.GivenKeys) — so a resource the FHIR
// server created keeps its id as its legacy key, and the reverse mirror
// needs no id map for it. Keys from an identity column are refused: a
// chosen key would collide with the sequence later. The insert is a plain
// INSERT: a row that appeared with that key meanwhile makes it fail on the
// primary key (409), never overwrites it.
func (b *Backend) createAs(ctx context.Context, tx sqlConn, s *mappings.Spec, key any, id string, body map[string]any, ifMatch string) (*backend.Resource, error) {
	switch {
	case !s.WriteBack.Create:
		return nil, refused(s, "create")
	case !s.GivenKeys():
		return nil, fmt.Errorf("%w: update-as-create: %s ids are assigned by the legacy database; use POST", backend.ErrNotSupported, s.ResourceType)
	case ifMatch != "":
		return nil, fmt.Errorf("%w: %s/%s does not exist", backend.ErrPreconditionFailed, s.ResourceType, id)
	}
	v, err := b.values(ctx, tx, s, body)
	if err != nil {
		return nil, err
	}
	st := s.InsertKeyedStmt(b.db.Dialect, key, v, b.stamp(s, nil))
	if _, err := sqldb.InsertKey(ctx, tx, b.db.Dialect, st.SQL, st.Args...); err != nil {
		return nil, constraintErr(s, err)
	}
	row, err := b.readRow(ctx, sqldb.SQLReader(tx), s, id)
	if err != nil {
		return nil, err
	}
	return b.stored(s, row, body)
}

// refused is the refusal of a write the spec does not allow at all for
// its type (writeBack), in the words every route answers it with.
func refused(s *mappings.Spec, interaction string) error {
	return &backend.InteractionError{Type: s.ResourceType, Interaction: interaction}
}

// CheckDelete implements backend.DeleteChecker: Delete's refusal of a type
// whose mapping allows no delete.
func (b *Backend) CheckDelete(_ context.Context, typ string) error {
	s, err := b.spec(typ)
	if err != nil {
		return err
	}
	if !s.WriteBack.Delete {
		return refused(s, "delete")
	}
	return nil
}

// Delete implements backend.Backend. Legacy keeps no tombstones: a deleted
// id reads as 404 afterwards.
func (b *Backend) Delete(ctx context.Context, typ, id string, ifMatch string) error {
	s, err := b.spec(typ)
	if err != nil {
		return err
	}
	if !s.WriteBack.Delete {
		return refused(s, "delete")
	}
	key, err := s.KeyOf(id)
	if err != nil {
		return nil // FHIR: deleting what does not exist succeeds
	}
	err = b.inTx(ctx, func(tx sqlConn) error {
		if ifMatch != "" {
			row, err := b.readRow(ctx, sqldb.SQLReader(tx), s, id)
			if errors.Is(err, backend.ErrNotFound) {
				return fmt.Errorf("%w: %s/%s does not exist", backend.ErrPreconditionFailed, typ, id)
			}
			if err != nil {
				return err
			}
			cur, err := s.RowMeta(row)
			if err != nil {
				return err
			}
			if cur.VersionID != ifMatch {
				return fmt.Errorf("%w: %s/%s is at version %s, not %s", backend.ErrPreconditionFailed, typ, id, cur.VersionID, ifMatch)
			}
		}
		st := s.DeleteStmt(b.db.Dialect, key)
		if _, err := tx.ExecContext(ctx, st.SQL, st.Args...); err != nil {
			if sqldb.IsForeignKey(err) {
				// a delete breaks no foreign key but by leaving rows
				// that refer to this one
				return errReferenced
			}
			return constraintErr(s, err)
		}
		return nil
	})
	if errors.Is(err, errReferenced) {
		return b.referenced(ctx, s, id)
	}
	return err
}

// errReferenced is a delete the database refused because rows still
// refer to the row (referenced looks up which).
var errReferenced = errors.New("rows refer to the row")

// referenced is the 409 of a delete of typ/id the database refused for a
// foreign key: it names the served types with resources that refer to it
// through a reference search parameter targeting typ (Observation's
// patient), never the tables behind them. The lookups run on the
// backend's reader, outside the write's transaction (on PostgreSQL the
// failed statement has aborted it), and are bounded in time: inside a
// transaction Bundle a database whose plain reads wait for row locks
// (SQL Server without snapshot reads) could wait on rows the Bundle's
// earlier entries wrote, until the Bundle ends — which waits for this.
// A lookup that fails or runs out of time ends the list; the refusal is
// still a 409, naming what was found.
func (b *Backend) referenced(ctx context.Context, s *mappings.Spec, id string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	re := &backend.ReferencedError{Type: s.ResourceType, ID: id}
	for _, typ := range b.reg.Types() { // sorted
		found, err := b.refersTo(ctx, b.reg.Spec(typ), s.ResourceType+"/"+id)
		if err != nil {
			break
		}
		if found {
			re.By = append(re.By, typ)
		}
	}
	return re
}

// refersTo reports whether a resource of spec s refers to ref (Type/id)
// through one of its reference search parameters.
func (b *Backend) refersTo(ctx context.Context, s *mappings.Spec, ref string) (bool, error) {
	target, _, _ := strings.Cut(ref, "/")
	for _, p := range s.SearchParams() {
		if s.ReferenceTarget(p) != target {
			continue
		}
		q, err := search.ParseQuery(url.Values{p: {ref}})
		if err != nil {
			continue // an id the grammar refuses: no resource refers to it
		}
		st, _, err := s.SearchStmt(b.db.Dialect, mappings.SearchRequest{Query: q, Limit: 1, Strict: true, Now: b.now()})
		if err != nil {
			continue
		}
		rs, err := b.read.QueryRows(ctx, st.SQL, st.Args, s.NumCols())
		if err != nil {
			return false, err
		}
		if len(rs) > 0 {
			return true, nil
		}
	}
	return false, nil
}
