package console

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/parity"
	"github.com/fhirfacade/fhirfacade/runs"
	"github.com/fhirfacade/fhirfacade/syncer"
)

// job is a sync or parity run started from the page, running in the
// background; its page polls its status.
type job struct {
	ID      int64
	Kind    string // sync or parity
	Type    string
	Actor   string
	Started time.Time

	mu       sync.Mutex
	done     bool
	finished time.Time
	progress string
	outcome  string
	failed   bool
	report   *parity.Report // parity: with its samples (kept in memory only)
}

// jobStatus is a job's state as its page shows it.
type jobState struct {
	ID       int64  `json:"id"`
	Kind     string `json:"kind"`
	Type     string `json:"type"`
	Done     bool   `json:"done"`
	Failed   bool   `json:"failed"`
	Progress string `json:"progress"`
	Outcome  string `json:"outcome"`
	Elapsed  string `json:"elapsed"`
	Report   int64  `json:"report,omitempty"`
}

func (j *job) state() jobState {
	j.mu.Lock()
	defer j.mu.Unlock()
	end := time.Now()
	if j.done {
		end = j.finished
	}
	st := jobState{ID: j.ID, Kind: j.Kind, Type: j.Type, Done: j.done, Failed: j.failed, Progress: j.progress, Outcome: j.outcome,
		Elapsed: end.Sub(j.Started).Round(100 * time.Millisecond).String()}
	if j.report != nil {
		st.Report = j.report.ID
	}
	return st
}

func (j *job) set(progress string) {
	j.mu.Lock()
	j.progress = progress
	j.mu.Unlock()
}

func (j *job) finish(outcome string, failed bool, rep *parity.Report) {
	j.mu.Lock()
	j.done, j.finished, j.outcome, j.failed, j.report = true, time.Now(), outcome, failed, rep
	j.mu.Unlock()
}

// jobs holds the console's jobs (the newest 100) and allows one running
// job per kind and type.
type jobs struct {
	mu   sync.Mutex
	next int64
	all  []*job
	// reports are parity reports run here, with their samples, by id:
	// samples hold PHI, so they stay in this process's memory (like the
	// CLI's files) and never reach the control store
	reports map[int64]*parity.Report
}

func newJobs() *jobs { return &jobs{reports: map[int64]*parity.Report{}} }

// start registers a job unless one of the same kind and type runs.
func (js *jobs) start(kind, typ, actor string) (*job, bool) {
	js.mu.Lock()
	defer js.mu.Unlock()
	for _, j := range js.all {
		if j.Kind == kind && j.Type == typ && !j.state().Done {
			return j, false
		}
	}
	js.next++
	j := &job{ID: js.next, Kind: kind, Type: typ, Actor: actor, Started: time.Now(), progress: "starting"}
	js.all = append(js.all, j)
	if len(js.all) > 100 {
		js.all = js.all[1:]
	}
	return j, true
}

func (js *jobs) get(id int64) *job {
	js.mu.Lock()
	defer js.mu.Unlock()
	for _, j := range js.all {
		if j.ID == id {
			return j
		}
	}
	return nil
}

func (js *jobs) runningFor(typ string) []*job {
	js.mu.Lock()
	defer js.mu.Unlock()
	var out []*job
	for _, j := range js.all {
		if j.Type == typ && !j.state().Done {
			out = append(out, j)
		}
	}
	return out
}

func (js *jobs) keepReport(rep *parity.Report) {
	js.mu.Lock()
	defer js.mu.Unlock()
	js.reports[rep.ID] = rep
	if len(js.reports) > 20 {
		var oldest int64 = -1
		for id := range js.reports {
			if oldest < 0 || id < oldest {
				oldest = id
			}
		}
		delete(js.reports, oldest)
	}
}

func (js *jobs) report(id int64) *parity.Report {
	js.mu.Lock()
	defer js.mu.Unlock()
	return js.reports[id]
}

// runJob starts a sync or parity run of a type in the background.
func (c *Console) runJob(w http.ResponseWriter, r *http.Request, s *session) {
	kind, typ := r.PathValue("kind"), r.PathValue("type")
	if kind != "sync" && kind != "parity" {
		c.fail(w, r, http.StatusNotFound, "no such run: "+strconv.Quote(kind))
		return
	}
	if c.cfg.FHIR == nil {
		c.fail(w, r, http.StatusConflict, "no FHIR server is configured (FHIRFACADE_FHIR_URL): there is nothing to "+kind+" with")
		return
	}
	if !c.known(typ) {
		c.fail(w, r, http.StatusNotFound, "resource type "+strconv.Quote(typ)+" is not mapped")
		return
	}
	j, fresh := c.jobs.start(kind, typ, s.User)
	if fresh {
		go c.work(j, c.actor(s), r.PostFormValue("incremental") == "yes")
	}
	http.Redirect(w, r, fmt.Sprintf("%s/jobs/%d", Base, j.ID), http.StatusSeeOther)
}

// work runs a job to its end (or the facade's), then journals it.
func (c *Console) work(j *job, a runs.Actor, incremental bool) {
	ctx := c.cfg.Jobs
	var outcome string
	var failed bool
	var rep *parity.Report
	switch j.Kind {
	case "sync":
		sy := &syncer.Syncer{Legacy: c.cfg.Legacy, FHIR: c.cfg.FHIR, Ctl: c.cfg.Ctl}
		o := syncer.Options{Type: j.Type, Incremental: incremental, Progress: func(p syncer.Progress) {
			j.set(fmt.Sprintf("%d written, %d failed, %v", p.Done, p.Failed, p.Elapsed.Round(time.Second)))
		}}
		res, err := runs.Sync(ctx, sy, c.cfg.Ctl, a, o)
		failed = err != nil || (res != nil && res.Failed > 0)
		if res != nil {
			outcome = fmt.Sprintf("%d written, %d failed, %d deleted", res.Written, res.Failed, res.Deleted)
		}
		if err != nil {
			outcome += "; stopped: " + runs.Reason(err)
			c.cfg.Log.Error("console: sync", "type", j.Type, "error", err.Error())
		}
	case "parity":
		j.set("reading legacy")
		progress := func(phase string, n int) {
			j.set(fmt.Sprintf("%s: %d resources read%s", map[string]string{"legacy": "legacy", "fhir": "FHIR server"}[phase], n,
				map[string]string{"legacy": "", "fhir": " (then compared by id)"}[phase]))
		}
		r, err := runs.Parity(ctx, c.cfg.Legacy, c.cfg.FHIR, c.cfg.Ctl, a, parity.Options{Type: j.Type, Threshold: c.cfg.Routes.Threshold, Progress: progress})
		if err != nil {
			outcome, failed = "stopped: "+runs.Reason(err), true
			c.cfg.Log.Error("console: parity", "type", j.Type, "error", err.Error())
			break
		}
		rep, failed = r, !r.Passed
		c.jobs.keepReport(r)
		k := r.Counts
		outcome = fmt.Sprintf("report %d: %s, %d matching, %d mismatched, %d only in legacy, %d only in FHIR, %d unmappable",
			r.ID, runs.Verdict(r.Passed), k.Matching, k.Mismatched, k.OnlyLegacy, k.OnlyFHIR, k.Unmappable)
	}
	j.finish(outcome, failed, rep)
	c.journalAction(context.WithoutCancel(ctx), j.Actor, j.Kind, j.Type, !failed, outcome)
}

// journalAction records a console action (its audit record is written by
// package runs or the action itself).
func (c *Console) journalAction(ctx context.Context, actor, action, typ string, ok bool, detail string) {
	if err := c.cfg.Ctl.RecordConsoleAction(ctx, control.ConsoleAction{At: time.Now(), Actor: actor, Action: action, Type: typ, OK: ok, Detail: detail}); err != nil {
		c.cfg.Log.Error("console: journal", "action", action, "error", err.Error())
	}
}

func (c *Console) known(typ string) bool {
	for _, t := range c.cfg.Types {
		if t == typ {
			return true
		}
	}
	return false
}

func (c *Console) jobOf(w http.ResponseWriter, r *http.Request) *job {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	j := c.jobs.get(id)
	if j == nil {
		c.fail(w, r, http.StatusNotFound, "no such job (jobs are kept in memory until the facade restarts)")
	}
	return j
}

func (c *Console) jobPage(w http.ResponseWriter, r *http.Request, s *session) {
	if j := c.jobOf(w, r); j != nil {
		c.render(w, r, http.StatusOK, "job", pageView(s, j.Kind+" "+j.Type, j.Kind, j.state()))
	}
}

// jobStatus is the job as JSON, polled by its page.
func (c *Console) jobStatus(w http.ResponseWriter, r *http.Request, _ *session) {
	if j := c.jobOf(w, r); j != nil {
		writeJSON(w, j.state())
	}
}
