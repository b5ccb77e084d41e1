package idmap

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/mappings"
	"github.com/fhirfacade/fhirfacade/search"
)

// Backend wraps the legacy Backend: ids and references of resources created
// on the FHIR server are translated to their legacy ids on the way in and
// back on the way out, and an update of an unknown FHIR id (the reverse
// mirror of a create made on FHIR) inserts a legacy row and records the pair.
type Backend struct {
	Inner backend.Backend
	Map   *Map
	Reg   *mappings.Registry
}

var (
	_ backend.Backend       = (*Backend)(nil)
	_ backend.WriteChecker  = (*Backend)(nil)
	_ backend.DeleteChecker = (*Backend)(nil)
	_ backend.Transactor    = (*Backend)(nil)
)

// Name implements backend.Backend (the inner name: page tokens and metrics
// name the legacy backend).
func (b *Backend) Name() string { return b.Inner.Name() }

// Ping implements backend.Backend.
func (b *Backend) Ping(ctx context.Context) error { return b.Inner.Ping(ctx) }

// derivable: the id is one the legacy key of typ can produce.
func (b *Backend) derivable(typ, id string) bool {
	s := b.Reg.Spec(typ)
	if s == nil {
		return true
	}
	_, err := s.KeyOf(id)
	return err == nil
}

// legacyID is the legacy id behind a public id (itself when unmapped).
func (b *Backend) legacyID(ctx context.Context, typ, id string) (string, error) {
	if l, ok := b.Map.ToLegacy(typ, id); ok {
		return l, nil
	}
	if b.derivable(typ, id) {
		return id, nil
	}
	// an id legacy cannot produce exists only through the map: it may
	// have been recorded by another process since the last refresh
	l, pending, found, err := b.Map.lookup(ctx, typ, id)
	if err != nil {
		return "", fmt.Errorf("%w: %v", backend.ErrUnavailable, err)
	}
	if found && !pending {
		return l, nil
	}
	return id, nil
}

// Read implements backend.Backend.
func (b *Backend) Read(ctx context.Context, typ, id string) (*backend.Resource, error) {
	l, err := b.legacyID(ctx, typ, id)
	if err != nil {
		return nil, err
	}
	r, err := b.Inner.Read(ctx, typ, l)
	if err != nil {
		return nil, err
	}
	return b.out(r)
}

// Search implements backend.Backend.
func (b *Backend) Search(ctx context.Context, typ string, q *search.Query, opts backend.SearchOptions) (*backend.SearchResult, error) {
	if !b.Map.Empty() {
		var err error
		if q, err = b.query(ctx, typ, q); err != nil {
			return nil, err
		}
	}
	res, err := b.Inner.Search(ctx, typ, q, opts)
	if err != nil || b.Map.Empty() {
		return res, err
	}
	for i, r := range res.Resources {
		if res.Resources[i], err = b.out(r); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// query translates _id and reference values to legacy ids (on a copy).
func (b *Backend) query(ctx context.Context, typ string, q *search.Query) (*search.Query, error) {
	spec := b.Reg.Spec(typ)
	cp := *q
	cp.Params = make([]search.Param, len(q.Params))
	for i, p := range q.Params {
		cp.Params[i] = p
		target := ""
		if spec != nil {
			target = spec.ReferenceTarget(p.Name)
		}
		if p.Name != "_id" && target == "" {
			continue
		}
		vals := make([]string, len(p.Values))
		for j, v := range p.Values {
			vals[j] = v
			rt, rid := typ, v
			if p.Name != "_id" {
				var ok bool
				if rt, rid, ok = strings.Cut(v, "/"); !ok {
					rt, rid = target, v
				}
			}
			l, err := b.legacyID(ctx, rt, rid)
			if err != nil {
				return nil, err
			}
			if l != rid {
				if p.Name == "_id" {
					vals[j] = l
				} else {
					vals[j] = rt + "/" + l
				}
			}
		}
		cp.Params[i].Values = vals
	}
	return &cp, nil
}

var refRe = regexp.MustCompile(`"reference"\s*:\s*"([A-Za-z]+)/([A-Za-z0-9\-.]{1,64})"`)

// out gives a legacy resource its public ids: its own, and those of the
// resources it references.
func (b *Backend) out(r *backend.Resource) (*backend.Resource, error) {
	if b.Map.Empty() {
		return r, nil
	}
	own, renamed := b.Map.ToFHIR(r.Type, r.ID)
	touched := renamed
	if !touched {
		for _, m := range refRe.FindAllSubmatch(r.JSON, -1) {
			if _, ok := b.Map.ToFHIR(string(m[1]), string(m[2])); ok {
				touched = true
				break
			}
		}
	}
	if !touched {
		return r, nil
	}
	dec := json.NewDecoder(bytes.NewReader(r.JSON))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	walkRefs(v, func(typ, id string) (string, bool) { return b.Map.ToFHIR(typ, id) })
	cp := *r
	if renamed {
		v["id"] = own
		cp.ID = own
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	cp.JSON = raw
	return &cp, nil
}

// walkRefs rewrites every "reference": "Type/id" in v for which to answers.
func walkRefs(v any, to func(typ, id string) (string, bool)) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && k == "reference" {
				if t, id, ok := strings.Cut(s, "/"); ok && !strings.Contains(id, "/") {
					if n, ok := to(t, id); ok {
						x[k] = t + "/" + n
					}
				}
				continue
			}
			walkRefs(e, to)
		}
	case []any:
		for _, e := range x {
			walkRefs(e, to)
		}
	}
}

// in translates the references of a written body to legacy ids.
func (b *Backend) in(ctx context.Context, body map[string]any) error {
	var err error
	walkRefs(body, func(typ, id string) (string, bool) {
		if err != nil {
			return "", false
		}
		l, e := b.legacyID(ctx, typ, id)
		if e != nil {
			err = e
			return "", false
		}
		return l, l != id
	})
	return err
}

// Create implements backend.Backend.
func (b *Backend) Create(ctx context.Context, typ string, body map[string]any, ifNoneExist *search.Query) (*backend.Resource, bool, error) {
	if err := b.in(ctx, body); err != nil {
		return nil, false, err
	}
	if ifNoneExist != nil && !b.Map.Empty() {
		var err error
		if ifNoneExist, err = b.query(ctx, typ, ifNoneExist); err != nil {
			return nil, false, err
		}
	}
	r, created, err := b.Inner.Create(ctx, typ, body, ifNoneExist)
	if err != nil {
		return nil, false, err
	}
	r, err = b.out(r)
	return r, created, err
}

// Update implements backend.Backend. An id legacy cannot produce and the map
// does not know is a resource created on the FHIR server: a legacy row is
// inserted for it and the pair recorded (reserved first, so an interrupted
// attempt is never repeated blindly). An id of the legacy key form goes to
// legacy as it is: an update of its row, or where legacy has none and its
// keys may be given (uuid keys) an insert under that key — a FHIR-created
// uuid needs no pair (CheckWriteID keeps one that names another legacy
// row from getting here).
func (b *Backend) Update(ctx context.Context, typ, id string, body map[string]any, ifMatch string) (*backend.Resource, bool, error) {
	if err := b.in(ctx, body); err != nil {
		return nil, false, err
	}
	l, err := b.legacyID(ctx, typ, id)
	if err != nil {
		return nil, false, err
	}
	if l != id || b.derivable(typ, id) {
		body["id"] = l
		r, created, err := b.Inner.Update(ctx, typ, l, body, ifMatch)
		if err != nil {
			return nil, false, err
		}
		r, err = b.out(r)
		return r, created, err
	}
	if ifMatch != "" {
		return nil, false, fmt.Errorf("%w: %s/%s does not exist", backend.ErrPreconditionFailed, typ, id)
	}
	if backend.InTransaction(ctx) {
		// the pair is recorded in the control store, outside the legacy
		// transaction: a rollback would leave it pointing at no row
		return nil, false, fmt.Errorf("%w: %s/%s was created on the FHIR server; its first legacy copy cannot be part of a transaction", backend.ErrNotSupported, typ, id)
	}
	if err := b.Map.reserve(ctx, typ, id); err != nil {
		if errors.Is(err, ErrInterrupted) {
			return nil, false, fmt.Errorf("%w: %w", backend.ErrConflict, err)
		}
		return nil, false, fmt.Errorf("%w: %v", backend.ErrUnavailable, err)
	}
	delete(body, "id")
	r, _, err := b.Inner.Create(ctx, typ, body, nil)
	if err != nil {
		// nothing was inserted: release the reservation so a retry can
		// try again (a failed release leaves it for an operator)
		b.Map.release(ctx, typ, id)
		return nil, false, err
	}
	// point of no return: the legacy row exists; until complete succeeds
	// the reservation stops any retry from inserting a second one
	if err := b.Map.complete(ctx, typ, id, r.ID); err != nil {
		return nil, false, fmt.Errorf("%w: legacy row %s/%s was created for %s but not recorded: %v", backend.ErrUnavailable, typ, r.ID, id, err)
	}
	r, err = b.out(r)
	return r, true, err
}

// Delete implements backend.Backend.
func (b *Backend) Delete(ctx context.Context, typ, id, ifMatch string) error {
	l, err := b.legacyID(ctx, typ, id)
	if err != nil {
		return err
	}
	err = b.Inner.Delete(ctx, typ, l, ifMatch)
	if re := (*backend.ReferencedError)(nil); errors.As(err, &re) && re.ID == l {
		re.ID = id // the refusal names the resource by its FHIR id
	}
	return err
}

// CheckWrite implements backend.WriteChecker: the inner backend's check of
// body with its id and references as the reverse mirror will write them.
// A reference to a resource created on FHIR is translated to its legacy id
// (from the cached map); one whose legacy row does not exist yet — created
// on FHIR and still queued for the mirror, which will have inserted it
// before it writes a resource made later — is given some legacy-form id of
// its type, so it is not refused for its id. An id with no legacy row
// behind it (created on FHIR, not mirrored yet) is checked as the create
// the mirror will make of it.
func (b *Backend) CheckWrite(ctx context.Context, typ, id string, body map[string]any) error {
	c, ok := b.Inner.(backend.WriteChecker)
	if !ok {
		return nil
	}
	if id != "" {
		l, err := b.legacyID(ctx, typ, id)
		if err != nil {
			return err
		}
		if l == id && !b.derivable(typ, id) {
			l = "" // not in the map: the mirror creates its legacy row
		}
		id = l
	}
	cp, _ := deepCopy(body).(map[string]any) // the caller sends body upstream as it is
	walkRefs(cp, func(t, id string) (string, bool) {
		if l, ok := b.Map.ToLegacy(t, id); ok {
			return l, true
		}
		s := b.Reg.Spec(t)
		if s == nil || b.derivable(t, id) {
			return "", false
		}
		return s.SomeID()
	})
	return c.CheckWrite(ctx, typ, id, cp)
}

// CheckWriteID implements backend.IDChecker. An id legacy cannot produce
// is fine: the mirror gives it a new legacy row and pairs the two. An id
// of the legacy key form names the legacy row with that key. Where legacy
// keys come from a sequence (an integer identity), legacy has no row for
// a new one and cannot take it: a client's update-as-create of such an id
// could never be mirrored. Where keys may be given (a uuid key,
// mappings.Spec.GivenKeys) the mirror inserts the row under the id itself,
// so ids stay the same on both sides without a pair. An id the FHIR
// server assigned is checked by checkAssigned.
func (b *Backend) CheckWriteID(ctx context.Context, typ, id string, assigned bool) error {
	if _, mapped := b.Map.ToLegacy(typ, id); mapped || !b.derivable(typ, id) {
		return nil
	}
	s := b.Reg.Spec(typ)
	given := s != nil && s.GivenKeys()
	if assigned {
		return b.checkAssigned(ctx, typ, id, given)
	}
	held, err := b.Map.held(ctx, typ, id)
	if err != nil {
		return fmt.Errorf("%w: %v", backend.ErrUnavailable, err)
	}
	if held {
		return &backend.ElementError{Path: typ + ".id", Msg: fmt.Sprintf("%s/%s: the FHIR server gave this id to a resource that legacy cannot hold under it (legacy's row %s is another resource, or legacy assigns such keys itself), so this write could not be mirrored back", typ, id, id)}
	}
	_, err = b.Inner.Read(ctx, typ, id)
	if errors.Is(err, backend.ErrNotFound) || errors.Is(err, backend.ErrGone) {
		if given {
			return nil // the mirror inserts the row under this very key
		}
		return &backend.ElementError{Path: typ + ".id", Msg: fmt.Sprintf("%s/%s: legacy assigns %s ids of this form itself and has no row %s, so this write could not be mirrored back", typ, id, typ, id)}
	}
	return err
}

// checkAssigned is CheckWriteID for an id of the legacy key form that the
// FHIR server just gave a new resource (the create has happened). With
// given keys and no legacy row of that key, the mirror inserts one under
// it. A legacy row that exists is another resource (this one is new), and
// a key from a sequence would be another row's later: either way mirroring
// could overwrite an unrelated row, so the id is refused — and held in the
// id map, so that later writes of it are refused too.
func (b *Backend) checkAssigned(ctx context.Context, typ, id string, given bool) error {
	why := "an id of the legacy key form: mirroring it back could overwrite the legacy row with that key"
	if given {
		_, err := b.Inner.Read(ctx, typ, id)
		switch {
		case errors.Is(err, backend.ErrNotFound) || errors.Is(err, backend.ErrGone):
			return nil
		case err != nil && !errors.Is(err, backend.ErrUnmappable):
			return err
		}
		why = "the id of an existing legacy row that is another resource: mirroring the new resource back would overwrite that row"
	}
	// DANGER: the refusal must stand even if the hold fails (the mirror
	// row is marked on it); only later writes then go unchecked
	held := "it is held in the id map (a reservation without a legacy id), so later writes of it are refused too; resolve the clash in legacy, then delete the reservation"
	if err := b.Map.hold(ctx, typ, id); err != nil {
		held = "it could not be held in the id map, so later writes of it are not stopped"
	}
	return fmt.Errorf("%w: the FHIR server assigned %s/%s, %s; %s", backend.ErrUnprocessable, typ, id, why, held)
}

// CheckDelete implements backend.DeleteChecker by forwarding (a delete
// needs no id translated to be judged).
func (b *Backend) CheckDelete(ctx context.Context, typ string) error {
	if c, ok := b.Inner.(backend.DeleteChecker); ok {
		return c.CheckDelete(ctx, typ)
	}
	return nil
}

// Transact implements backend.Transactor when the inner backend does: the
// unit is the inner one, with ids and references translated as usual.
func (b *Backend) Transact(ctx context.Context, types []string, fn func(ctx context.Context) error) error {
	t, ok := b.Inner.(backend.Transactor)
	if !ok {
		return fmt.Errorf("%w: the %s backend runs no transactions", backend.ErrNotSupported, b.Inner.Name())
	}
	return t.Transact(ctx, types, fn)
}

// deepCopy copies decoded JSON (maps and slices; leaves are immutable).
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = deepCopy(e)
		}
		return s
	}
	return v
}
