package facade

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// streamedPaths are the routes whose answers are too large to hold in
// memory until their audit record is stored (bulk export files, up to
// gigabytes): their handler stores the record itself just before the
// first byte (auditBeforeStream), so the rule holds — no record, no data —
// without buffering the answer.
var streamedPaths = map[string]bool{"/fhir/$export-file/:job/:name": true}

// streamed runs a streamed route: unbuffered, its record stored by the
// handler before it streams, or here afterwards when it answered without
// streaming (a refusal).
func (a *auditTrail) streamed(c echo.Context, next echo.HandlerFunc) error {
	err := next(c)
	if reqOf(c).audited {
		return err
	}
	if err != nil {
		c.Error(err)
	}
	rec := record(c, c.Response().Status, reqOf(c).auditDetail)
	if a.aggregated(c, c.Response().Status) {
		a.agg.Add(rec)
	} else if werr := a.storeRecord(c, rec, false); werr != nil {
		a.log.Warn("audit record of a refused download not stored", "error", werr.Error())
	}
	return nil
}

// auditBeforeStream stores the record of a streamed answer about to be
// sent with status; an error (the trail is failing, fail closed) means the
// answer must not be sent.
func (s *Server) auditBeforeStream(c echo.Context, status int) error {
	rq := reqOf(c)
	if s.audit == nil {
		return nil
	}
	if werr := s.audit.storeRecord(c, record(c, status, rq.auditDetail), false); werr != nil && !s.audit.failOpen {
		return &HTTPError{Status: http.StatusServiceUnavailable, Code: "transient", Msg: "the audit trail is unavailable; retry later", Err: werr}
	}
	rq.audited = true
	return nil
}

// mountBulk puts the $export routes on the FHIR group f (and the file
// downloads, streamed and not JSON, beside it).
func (s *Server) mountBulk(f *echo.Group) {
	s.handle(f, "/fhir", "/$export", methods{http.MethodGet: s.bulkSystem})
	s.handle(f, "/fhir", "/Patient/$export", methods{http.MethodGet: s.bulkPatient})
	s.handle(f, "/fhir", "/Group/:id/$export", methods{http.MethodGet: s.bulkGroup})
	s.handle(f, "/fhir", "/$export-status/:job", methods{http.MethodGet: s.bulkStatus, http.MethodDelete: s.bulkCancel})
	s.handle(s.e, "", "/fhir/$export-file/:job/:name", methods{http.MethodGet: s.bulkDownload}, s.authn.handle)
}

// bulkDefinitions are the Bulk Data IG's OperationDefinitions by level.
var bulkDefinitions = map[string]string{
	"":        "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export",
	"Patient": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export",
	"Group":   "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export",
}

// bulkSystemOperations is the statement's system-level $export (none
// without a bulk engine).
func (s *Server) bulkSystemOperations() []map[string]any {
	if s.cfg.Bulk == nil {
		return nil
	}
	return []map[string]any{{"name": "export", "definition": bulkDefinitions[""]}}
}

// bulkTypeOperations is the $export a type serves (Patient, Group).
func (s *Server) bulkTypeOperations(typ string) []map[string]any {
	if d, ok := bulkDefinitions[typ]; ok && typ != "" && s.cfg.Bulk != nil {
		return []map[string]any{{"name": "export", "definition": d}}
	}
	return nil
}
