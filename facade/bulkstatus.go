package facade

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/fhirfacade/fhirfacade/bulk"
)

// Status polling, cancel and downloads of $export jobs. Every one answers
// only the principal that started the job: anyone else gets the 404 of an
// unknown job, so job ids cannot be probed. The audit middleware records
// each request (interaction bulk-status, bulk-cancel, bulk-download).

// bulkLeftFile is the name of the error file listing the types a
// patient-level export left out for the token's scopes.
const bulkLeftFile = "scopes.error.ndjson"

// bulkJob is the caller's job named in the path.
func (s *Server) bulkJob(c echo.Context, interaction string) (*bulk.Job, error) {
	rq := reqOf(c)
	rq.interaction = interaction
	id := c.Param("job")
	j, err := s.cfg.Bulk.Job(c.Request().Context(), id)
	if errors.Is(err, bulk.ErrNotFound) {
		return nil, httpErr(404, "not-found", "no $export job "+truncate(id, 64))
	}
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(j.Owner), []byte(bulkOwner(c))) != 1 {
		rq.setDetail("$export job of another principal")
		return nil, httpErr(404, "not-found", "no $export job "+truncate(id, 64))
	}
	rq.setDetail("bulk export job " + j.ID)
	return j, nil
}

// bulkStatus answers a status poll: 202 with X-Progress while the job
// runs, the manifest when it is done, an OperationOutcome when it failed.
func (s *Server) bulkStatus(c echo.Context) error {
	j, err := s.bulkJob(c, "bulk-status")
	if err != nil {
		return err
	}
	switch j.Status {
	case bulk.Queued, bulk.Running:
		h := c.Response().Header()
		h.Set("X-Progress", bulkProgress(j))
		h.Set("Retry-After", "2")
		return c.NoContent(202)
	case bulk.Failed:
		return httpErr(500, "exception", "the $export job failed: "+j.Error)
	}
	c.Response().Header().Set("Expires", s.cfg.Bulk.Expires(j.FinishedAt).UTC().Format(http.TimeFormat))
	return writeJSON(c, 200, s.bulkManifest(j))
}

// bulkProgress is the X-Progress text: files finished and lines written.
func bulkProgress(j *bulk.Job) string {
	done, lines := 0, int64(0)
	for _, p := range j.Parts {
		lines += p.Lines
		if p.Done {
			done++
		}
	}
	if j.Status == bulk.Queued {
		return "queued"
	}
	return fmt.Sprintf("%d of %d files done, %d resources", done, len(j.Parts), lines)
}

// bulkFile is one entry of the manifest's output or error list.
type bulkFile struct {
	Type  string `json:"type"`
	URL   string `json:"url"`
	Count int64  `json:"count"`
}

// bulkManifest is the completion manifest (IG "Response - Complete
// Status"): non-empty files only.
func (s *Server) bulkManifest(j *bulk.Job) map[string]any {
	out, errs := []bulkFile{}, []bulkFile{}
	url := func(name string) string { return s.baseURL + "/$export-file/" + j.ID + "/" + name }
	for _, p := range j.Parts {
		if p.Lines > 0 {
			out = append(out, bulkFile{Type: p.Type, URL: url(bulk.OutputName(p)), Count: p.Lines})
		}
		if p.ErrLines > 0 {
			errs = append(errs, bulkFile{Type: "OperationOutcome", URL: url(bulk.ErrorName(p)), Count: p.ErrLines})
		}
	}
	if len(j.Spec.Left) > 0 {
		errs = append(errs, bulkFile{Type: "OperationOutcome", URL: url(bulkLeftFile), Count: int64(len(j.Spec.Left))})
	}
	return map[string]any{
		"transactionTime":     j.TransactionTime.UTC().Format(time.RFC3339Nano),
		"request":             j.Request,
		"requiresAccessToken": true,
		"output":              out,
		"error":               errs,
	}
}

// bulkCancel cancels the job and deletes its files: 202, then the job is
// gone (404).
func (s *Server) bulkCancel(c echo.Context) error {
	j, err := s.bulkJob(c, "bulk-cancel")
	if err != nil {
		return err
	}
	if err := s.cfg.Bulk.Cancel(c.Request().Context(), j.ID); err != nil {
		if errors.Is(err, bulk.ErrNotFound) {
			return httpErr(404, "not-found", "no $export job "+j.ID)
		}
		return err
	}
	return writeJSON(c, 202, newOutcome("information", "informational", "$export job "+j.ID+" cancelled"))
}

// bulkDownload streams one file of a job (its committed bytes).
func (s *Server) bulkDownload(c echo.Context) error {
	j, err := s.bulkJob(c, "bulk-download")
	if err != nil {
		return err
	}
	name := c.Param("name")
	reqOf(c).setDetail("bulk export job " + j.ID + " file " + truncate(name, 64))
	if name == bulkLeftFile && len(j.Spec.Left) > 0 {
		if err := s.auditBeforeStream(c, 200); err != nil {
			return err
		}
		return s.bulkLeftOut(c, j)
	}
	rc, err := s.cfg.Bulk.Open(c.Request().Context(), j, name)
	if errors.Is(err, bulk.ErrNotFound) {
		return httpErr(404, "not-found", "the $export job has no file "+truncate(name, 64))
	}
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := s.auditBeforeStream(c, 200); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentType, "application/fhir+ndjson")
	c.Response().WriteHeader(200)
	_, err = io.Copy(c.Response(), rc)
	return err
}

// bulkLeftOut is the error file naming the types left out for the
// token's scopes, one OperationOutcome line each.
func (s *Server) bulkLeftOut(c echo.Context, j *bulk.Job) error {
	c.Response().Header().Set(echo.HeaderContentType, "application/fhir+ndjson")
	c.Response().WriteHeader(200)
	for _, t := range j.Spec.Left {
		oo := newOutcome("error", "forbidden", t+" was left out: the token's scopes do not allow reading it in bulk")
		b, _ := json.Marshal(oo)
		if _, err := c.Response().Write(append(b, '\n')); err != nil {
			return err
		}
	}
	return nil
}
