package console

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/fhirfacade/fhirfacade/routing"
	"github.com/fhirfacade/fhirfacade/runs"
)

// moveView is the move page: the guard's verdict and the dry run's steps
// for one target state, read before any button is offered.
type moveView struct {
	Type    string
	Route   routing.Status
	To      routing.State
	Targets []routing.State
	Plan    *routing.Plan // the dry run as asked (nil: none chosen)
	// Forced is the dry run with --force: when the plain one is refused
	// and this one passes, the guard can be overridden.
	Forced   *routing.Plan
	Final    bool // the target is one-way (needs --confirm)
	Err      string
	Conflict bool // the page was stale: someone else moved the type
	Reason   string
}

// plan reads the route and dry-runs the move to `to` through the same
// routing.Store.Set the CLI's --dry-run calls.
func (c *Console) plan(r *http.Request, typ string, to routing.State) (*moveView, error) {
	st, err := c.cfg.Routes.Statuses(r.Context())
	if err != nil {
		return nil, err
	}
	v := &moveView{Type: typ, To: to}
	found := false
	for _, s := range st {
		if s.Type == typ {
			v.Route, found = s, true
		}
	}
	if !found {
		return nil, routing.ErrUnknown
	}
	v.Targets = v.Route.Next
	if to == "" {
		return v, nil
	}
	v.Final = routing.States[to].Final
	dry := routing.Move{Type: typ, To: to, Actor: "dry-run", Reason: "dry run", DryRun: true, Confirm: true, Version: v.Route.Version}
	if v.Plan, err = c.cfg.Routes.Set(r.Context(), dry); err != nil {
		v.Err = err.Error()
		return v, nil
	}
	if v.Plan.Refused != "" {
		dry.Force = true
		if f, err := c.cfg.Routes.Set(r.Context(), dry); err == nil && f.Refused == "" {
			v.Forced = f
		}
	}
	return v, nil
}

func (c *Console) movePage(w http.ResponseWriter, r *http.Request, s *session) {
	typ := r.PathValue("type")
	var to routing.State
	if q := r.URL.Query().Get("to"); q != "" {
		st, err := routing.ParseState(q)
		if err != nil {
			c.fail(w, r, http.StatusBadRequest, err.Error())
			return
		}
		to = st
	}
	v, err := c.plan(r, typ, to)
	if errors.Is(err, routing.ErrUnknown) {
		c.fail(w, r, http.StatusNotFound, "resource type "+strconv.Quote(typ)+" has no route")
		return
	}
	if err != nil {
		c.unavailable(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "move", pageView(s, "Move "+typ, "overview", v))
}

// moveApply makes the move with the version the page was rendered at: the
// compare-and-set of `route set --version`, so a page someone else's move
// made stale is refused, not applied to a state its reader never saw.
func (c *Console) moveApply(w http.ResponseWriter, r *http.Request, s *session) {
	typ := r.PathValue("type")
	to, err := routing.ParseState(r.PostFormValue("to"))
	if err != nil {
		c.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	version, err := strconv.Atoi(r.PostFormValue("version"))
	if err != nil || version < 1 {
		c.fail(w, r, http.StatusBadRequest, "the form has no route version; reload the page")
		return
	}
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	m := routing.Move{Type: typ, To: to, Actor: s.User, Reason: reason, Version: version,
		Force: r.PostFormValue("force") == "yes", Confirm: r.PostFormValue("confirm") == "yes"}
	p, err := runs.Move(r.Context(), c.cfg.Routes, c.cfg.Ctl, c.actor(s), m)
	if err == nil {
		http.Redirect(w, r, Base+"/journal?type="+urlQuery(typ)+"&moved="+strconv.Itoa(p.Version), http.StatusSeeOther)
		return
	}
	v, perr := c.plan(r, typ, to)
	if perr != nil {
		c.unavailable(w, r, perr)
		return
	}
	v.Reason = reason
	status := http.StatusConflict
	switch {
	case errors.Is(err, routing.ErrStale):
		// the page showed an older version: show the current one
		v.Conflict = true
	case errors.Is(err, routing.ErrRefused):
		v.Err = err.Error()
	case errors.Is(err, routing.ErrUnknown):
		status, v.Err = http.StatusNotFound, err.Error()
	default:
		c.unavailable(w, r, err)
		return
	}
	c.render(w, r, status, "move", pageView(s, "Move "+typ, "overview", v))
}

// actor is how the audit trail names the session's user.
func (c *Console) actor(s *session) runs.Actor {
	return runs.Actor{User: s.User, ClientID: s.ClientID, Source: "console"}
}
