package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fhirfacade/fhirfacade/audit"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/runs"
)

// entry is one journal line: a route move or a console action.
type entry struct {
	At     time.Time
	Type   string
	Kind   string // "move", or the console action
	Actor  string
	OK     bool
	What   string
	Reason string
	ID     int64 // route event id (moves)
}

// journal merges the route journal and the console's actions, newest
// first, filtered by type, kind and actor (substring).
func (c *Console) journal(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	typ, kind, actor := q.Get("type"), q.Get("kind"), strings.TrimSpace(q.Get("actor"))
	var out []entry
	if kind == "" || kind == "move" {
		h, err := c.cfg.Routes.History(r.Context(), typ)
		if err != nil {
			c.unavailable(w, r, err)
			return
		}
		for _, e := range h {
			what := fmt.Sprintf("%s → %s (version %d)", e.From, e.To, e.Version)
			if e.Forced {
				what += ", forced"
			}
			if e.ParityReport != nil {
				what += fmt.Sprintf(", parity report %d", *e.ParityReport)
			}
			out = append(out, entry{At: e.At, Type: e.Type, Kind: "move", Actor: e.Actor, OK: true, What: what, Reason: e.Reason, ID: e.ID})
		}
	}
	if kind != "move" {
		acts, err := c.cfg.Ctl.ConsoleActions(r.Context(), typ, kind, 500)
		if err != nil {
			c.unavailable(w, r, err)
			return
		}
		for _, a := range acts {
			out = append(out, entry{At: a.At, Type: a.Type, Kind: a.Action, Actor: a.Actor, OK: a.OK, What: a.Detail})
		}
	}
	if actor != "" {
		kept := out[:0]
		for _, e := range out {
			if strings.Contains(strings.ToLower(e.Actor), strings.ToLower(actor)) {
				kept = append(kept, e)
			}
		}
		out = kept
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.After(out[j].At) })
	c.render(w, r, http.StatusOK, "journal", pageView(s, "Journal", "journal", map[string]any{
		"Entries": out, "Type": typ, "Kind": kind, "Actor": actor, "Types": c.cfg.Types, "Moved": q.Get("moved"),
		"Kinds": []string{"move", "sync", "parity", "outbox-retry", "outbox-skip", "audit-verify"},
	}))
}

// mirror lists the failed outbox rows with their reasons.
func (c *Console) mirror(w http.ResponseWriter, r *http.Request, s *session) {
	rows, err := c.cfg.Ctl.OutboxFailed(r.Context())
	if err != nil {
		c.unavailable(w, r, err)
		return
	}
	counts, err := c.cfg.Ctl.OutboxCountsByType(r.Context())
	if err != nil {
		c.unavailable(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "mirror", pageView(s, "Sync and mirror", "mirror", map[string]any{
		"Failed": rows, "Counts": counts, "Types": c.cfg.Types, "FHIR": c.cfg.FHIR != nil, "Flash": r.URL.Query().Get("done"),
	}))
}

// mirrorAction retries or skips one failed outbox row, audited and
// journaled.
func (c *Console) mirrorAction(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	action := r.PathValue("action")
	if err != nil || (action != "retry" && action != "skip") {
		c.fail(w, r, http.StatusNotFound, "no such outbox action")
		return
	}
	// the type comes from the row itself, not from the form
	typ, found, err := c.failedRowType(r, id)
	if err == nil && found {
		if action == "retry" {
			err = c.cfg.Ctl.RequeueFailedOutbox(r.Context(), id)
		} else {
			err = c.cfg.Ctl.SkipFailedOutbox(r.Context(), id, "skipped from the console by "+s.User)
		}
	} else if err == nil {
		err = control.ErrNotFailed
	}
	if errors.Is(err, control.ErrNotFailed) {
		c.fail(w, r, http.StatusConflict, fmt.Sprintf("outbox row %d is no longer failed (someone else retried or skipped it)", id))
		return
	}
	if err != nil {
		c.unavailable(w, r, err)
		return
	}
	detail := fmt.Sprintf("outbox row %d %s", id, map[string]string{"retry": "queued again", "skip": "skipped (not copied)"}[action])
	if err := runs.Audit(r.Context(), c.cfg.Ctl, c.actor(s), "outbox-"+action, typ, false, detail); err != nil {
		// the row is already requeued or skipped: no answer undoes that, so
		// the missing record is at least said where operators look
		c.cfg.Log.Error("console: outbox action not audited", "action", action, "row", id, "user", s.User, "error", err.Error())
	}
	c.journalAction(r.Context(), s.User, "outbox-"+action, typ, true, detail)
	http.Redirect(w, r, Base+"/mirror?done="+urlQuery(detail), http.StatusSeeOther)
}

// failedRowType is the type of failed outbox row id (found false: no
// such failed row).
func (c *Console) failedRowType(r *http.Request, id int64) (string, bool, error) {
	rows, err := c.cfg.Ctl.OutboxFailed(r.Context())
	if err != nil {
		return "", false, err
	}
	for _, row := range rows {
		if row.ID == id {
			return row.Type, true, nil
		}
	}
	return "", false, nil
}

// auditPage shows the chain's status: the newest verify and the newest
// anchor (the head to write down outside the store).
func (c *Console) auditPage(w http.ResponseWriter, r *http.Request, s *session) {
	head, err := c.cfg.Ctl.AuditHead(r.Context())
	if err != nil {
		c.unavailable(w, r, err)
		return
	}
	last, err := c.cfg.Ctl.ConsoleActions(r.Context(), "", "audit-verify", 10)
	if err != nil {
		c.unavailable(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "audit", pageView(s, "Audit", "audit", map[string]any{
		"Head": audit.Anchor{Seq: head.Seq, Hash: head.Hash}, "Verifies": last,
	}))
}

// auditVerify walks the chain now (audit.Store.Verify, the code of
// `fhirfacade audit verify`) and journals the result.
func (c *Console) auditVerify(w http.ResponseWriter, r *http.Request, s *session) {
	rep, err := (&audit.Store{DB: c.cfg.Ctl.DB}).Verify(r.Context())
	if err != nil {
		c.unavailable(w, r, err)
		return
	}
	ok, detail := rep.Problem == nil, fmt.Sprintf("%d records, chain whole; anchor %s", rep.Records, audit.Anchor{Seq: rep.HeadSeq, Hash: rep.HeadHash})
	if !ok {
		detail = fmt.Sprintf("%d records; BROKEN: %s", rep.Records, rep.Problem.Error())
	}
	_ = runs.Audit(r.Context(), c.cfg.Ctl, c.actor(s), "audit-verify", "", !ok, detail)
	c.journalAction(r.Context(), s.User, "audit-verify", "", ok, detail)
	http.Redirect(w, r, Base+"/audit", http.StatusSeeOther)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
