package routing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/mirror"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// reversible checks a write on a `fhir` route against the legacy write-back
// mapping before it is sent upstream, so that `fhir` stays reversible: the
// body, and for an update the id the client chose (id "" for a create); a
// delete (body nil) only for whether the mapping takes deletes at all.
// It returns the reason to queue the write's mirror row as unmirrorable
// (the client asked for lenient handling), "" when legacy can hold the
// write, or the refusal: 422 naming the element, or — for a create, update
// or delete the type's mapping does not allow at all — the 400
// not-supported the legacy route answers (backend.InteractionError), in
// its words.
func (r *Router) reversible(ctx context.Context, typ, id string, body map[string]any) (string, error) {
	if r.check == nil {
		return "", nil
	}
	err := r.legacyCheck(ctx, typ, id, body)
	var refused *backend.InteractionError
	switch {
	case err == nil:
		return "", nil
	case !errors.Is(err, backend.ErrUnprocessable) && !errors.As(err, &refused):
		return "", err
	case backend.Lenient(ctx):
		return err.Error(), nil
	}
	return "", fmt.Errorf("%w; %s is on the fhir route, which must stay reversible: legacy could not hold this write, so it is refused (Prefer: handling=lenient stores it on FHIR anyway, marked unmirrorable, and blocks the move back to shadow)", err, typ)
}

// legacyCheck is what legacy would refuse of the write (nil: nothing).
func (r *Router) legacyCheck(ctx context.Context, typ, id string, body map[string]any) error {
	if body == nil {
		if c, ok := r.check.(backend.DeleteChecker); ok {
			return c.CheckDelete(ctx, typ)
		}
		return nil
	}
	err := r.check.CheckWrite(ctx, typ, id, body)
	if c, ok := r.check.(backend.IDChecker); ok && err == nil && id != "" {
		err = c.CheckWriteID(ctx, typ, id, false)
	}
	return err
}

// assignedMark is the unmirrorable reason for the mirror row of a resource
// the FHIR server created with an id legacy cannot take ("" when it can).
// The create has happened, so nothing is refused: the row is marked, which
// keeps the drainer from writing it into an unrelated legacy row and
// blocks the move back to shadow until an operator looks.
func (r *Router) assignedMark(ctx context.Context, typ, id string) string {
	c, ok := r.check.(backend.IDChecker)
	if !ok {
		return ""
	}
	if err := c.CheckWriteID(ctx, typ, id, true); errors.Is(err, backend.ErrUnprocessable) {
		return err.Error()
	}
	return ""
}

// unmirrorableQueue queues a mirror row that is never to be tried.
type unmirrorableQueue interface {
	EnqueueUnmirrorable(ctx context.Context, target, typ, id, reason string) error
}

var _ unmirrorableQueue = txQueue{}

// EnqueueUnmirrorable queues the row, in the fence's transaction, as
// unmirrorable with the reason legacy cannot hold the write.
func (q txQueue) EnqueueUnmirrorable(ctx context.Context, target, typ, id, reason string) error {
	return q.o.EnqueueAs(ctx, q.tx, mirror.Unmirrorable, reason, target, typ, id)
}

// enqueue queues a mirror row: pending, or unmirrorable when mark (the
// reason) is set.
func enqueue(ctx context.Context, q Enqueuer, target, typ, id, mark string) error {
	if mark == "" {
		return q.Enqueue(ctx, target, typ, id)
	}
	u, ok := q.(unmirrorableQueue)
	if !ok {
		return fmt.Errorf("%w: the outbox cannot mark %s/%s unmirrorable", backend.ErrUnavailable, typ, id)
	}
	return u.EnqueueUnmirrorable(ctx, target, typ, id, mark)
}

// Status is a route with the counts an operator needs to see beside it.
type Status struct {
	Route
	// Unmirrorable counts writes made on FHIR that legacy cannot hold.
	Unmirrorable int `json:"unmirrorable"`
	// Next lists the states one move away (the Transitions table).
	Next []State `json:"next"`
}

// Statuses is the table, sorted by type, with each type's count of
// unmirrorable writes (route list, GET /admin/routes).
func (s *Store) Statuses(ctx context.Context) ([]Status, error) {
	t, err := s.Load(ctx)
	if err != nil {
		return nil, err
	}
	n, err := s.ctl.OutboxUnmirrorableCounts(ctx)
	if err != nil {
		return nil, fmt.Errorf("routing: outbox: %s", sqldb.Describe(err))
	}
	out := make([]Status, 0, len(t.Routes))
	for _, r := range t.List() {
		next := NextStates(r.State)
		if next == nil {
			next = []State{}
		}
		out = append(out, Status{Route: r, Unmirrorable: n[r.Type], Next: next})
	}
	return out, nil
}

// unmirrored says which writes of typ made on FHIR legacy does not have:
// rows the reverse mirror failed, and writes accepted unmirrorable ("" when
// there are none).
func (s *Store) unmirrored(ctx context.Context, tx *sql.Tx, typ string) (string, error) {
	failed, unmirrorable, err := s.ctl.OutboxUnmirrored(ctx, tx, typ)
	if err != nil {
		return "", err
	}
	var why []string
	if failed > 0 {
		why = append(why, fmt.Sprintf("%d writes made on FHIR could not be mirrored into legacy (see the failed outbox rows)", failed))
	}
	if unmirrorable > 0 {
		why = append(why, fmt.Sprintf("%d writes made on FHIR with Prefer: handling=lenient are unmirrorable (legacy cannot hold them; see the unmirrorable outbox rows, or write those resources again in a form legacy can hold)", unmirrorable))
	}
	return strings.Join(why, "; "), nil
}
