package audit

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// Export writes the records recorded at or after since as FHIR R4 AuditEvent
// NDJSON, following IHE Basic Audit Log Patterns: a search that returned
// data of several patients becomes one AuditEvent per patient (so a
// patient's accounting of disclosures finds every query that touched them);
// other interactions are one AuditEvent naming all their patients. It
// returns the number of AuditEvents written.
func (s *Store) Export(ctx context.Context, since time.Time, w io.Writer) (int, error) {
	bw := bufio.NewWriterSize(w, 1<<16)
	n := 0
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	err := s.Each(ctx, since, func(r *Record) error {
		for _, ev := range AuditEvents(r) {
			if err := enc.Encode(ev); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	return n, bw.Flush()
}

type coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code"`
	Display string `json:"display,omitempty"`
}

type reference struct {
	Reference  string      `json:"reference,omitempty"`
	Identifier *identifier `json:"identifier,omitempty"`
	Display    string      `json:"display,omitempty"`
}

type identifier struct {
	System string `json:"system,omitempty"`
	Value  string `json:"value"`
}

type concept struct {
	Coding []coding `json:"coding"`
}

type network struct {
	Address string `json:"address"`
	Type    string `json:"type"`
}

type agent struct {
	Type      *concept   `json:"type,omitempty"`
	Who       *reference `json:"who,omitempty"`
	AltID     string     `json:"altId,omitempty"`
	Requestor bool       `json:"requestor"`
	Network   *network   `json:"network,omitempty"`
}

type entity struct {
	What   *reference `json:"what,omitempty"`
	Type   *coding    `json:"type,omitempty"`
	Role   *coding    `json:"role,omitempty"`
	Query  string     `json:"query,omitempty"`
	Detail []detail   `json:"detail,omitempty"`
}

type detail struct {
	Type        string `json:"type"`
	ValueString string `json:"valueString"`
}

type source struct {
	Site     string    `json:"site,omitempty"`
	Observer reference `json:"observer"`
	Type     []coding  `json:"type"`
}

// Event is an R4 AuditEvent.
type Event struct {
	ResourceType string   `json:"resourceType"`
	ID           string   `json:"id"`
	Type         coding   `json:"type"`
	Subtype      []coding `json:"subtype,omitempty"`
	Action       string   `json:"action"`
	Recorded     string   `json:"recorded"`
	Outcome      string   `json:"outcome"`
	OutcomeDesc  string   `json:"outcomeDesc,omitempty"`
	Agent        []agent  `json:"agent"`
	Source       source   `json:"source"`
	Entity       []entity `json:"entity,omitempty"`
}

const (
	sysEventType   = "http://terminology.hl7.org/CodeSystem/audit-event-type"
	sysInteraction = "http://hl7.org/fhir/restful-interaction"
	sysEntityType  = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
	sysObjectRole  = "http://terminology.hl7.org/CodeSystem/object-role"
	sysDCM         = "http://dicom.nema.org/resources/ontology/DCM"
	sysFacade      = "urn:fhirfacade:audit"
)

var restful = map[string]string{"read": "R", "vread": "R", "history-instance": "R", "search-type": "E", "create": "C", "conditional-create": "C",
	"update": "U", "conditional-update": "U", "delete": "D", "conditional-delete": "D",
	"operation": "E"}

// restfulCode is the restful-interaction code of an interaction the code
// system has no code for (its conditional forms).
var restfulCode = map[string]string{"conditional-create": "create", "conditional-update": "update", "conditional-delete": "delete"}

// AuditEvents renders one record as AuditEvents (one per patient for
// searches).
func AuditEvents(r *Record) []Event {
	base := Event{
		ResourceType: "AuditEvent",
		ID:           fmt.Sprint(r.Seq),
		Recorded:     r.Time.UTC().Format(time.RFC3339Nano),
		Outcome:      outcomeCode(r.Status),
		OutcomeDesc:  outcomeDesc(r),
		Source: source{Site: "fhirfacade", Observer: reference{Display: "fhirfacade"},
			Type: []coding{{System: "http://terminology.hl7.org/CodeSystem/security-source-type", Code: "4", Display: "Application Server"}}},
	}
	if action, ok := restful[r.Interaction]; ok {
		base.Type = coding{System: sysEventType, Code: "rest", Display: "Restful Operation"}
		code := r.Interaction
		if c, ok := restfulCode[code]; ok {
			code = c
		}
		base.Subtype = []coding{{System: sysInteraction, Code: code}}
		base.Action = action
	} else {
		base.Type = coding{System: sysDCM, Code: "110100", Display: "Application Activity"}
		base.Subtype = []coding{{System: sysFacade, Code: nonEmpty(r.Interaction, "unknown")}}
		base.Action = "E"
	}
	if r.User != "" || r.FHIRUser != "" {
		a := agent{Requestor: true, AltID: r.User, Type: &concept{Coding: []coding{{System: "http://terminology.hl7.org/CodeSystem/v3-RoleClass", Code: "humanuser", Display: "human user"}}}}
		if r.FHIRUser != "" {
			a.Who = &reference{Reference: r.FHIRUser}
		} else {
			a.Who = &reference{Identifier: &identifier{Value: r.User}}
		}
		base.Agent = append(base.Agent, a)
	}
	client := agent{Requestor: r.User == "" && r.FHIRUser == "", Who: &reference{Identifier: &identifier{Value: nonEmpty(r.ClientID, "anonymous")}},
		Type: &concept{Coding: []coding{{System: sysDCM, Code: "110150", Display: "Application"}}}}
	if r.Source != "" && r.Source != "cli" {
		client.Network = &network{Address: r.Source, Type: "2"}
	}
	base.Agent = append(base.Agent, client,
		agent{Requestor: false, Who: &reference{Display: "fhirfacade"}, Type: &concept{Coding: []coding{{System: sysDCM, Code: "110153", Display: "Source Role ID"}}}})

	var common []entity
	for _, id := range r.IDs {
		if strings.HasPrefix(id, "Patient/") {
			continue // named as the patient entity below
		}
		common = append(common, entity{What: &reference{Reference: id}, Type: &coding{System: sysEntityType, Code: "2", Display: "System Object"}, Role: &coding{System: sysObjectRole, Code: "4", Display: "Domain Resource"}})
	}
	if r.Query != "" {
		common = append(common, entity{Type: &coding{System: sysEntityType, Code: "2", Display: "System Object"}, Role: &coding{System: sysObjectRole, Code: "24", Display: "Query"},
			Query: base64.StdEncoding.EncodeToString([]byte(r.Query))})
	} else if r.Type != "" && len(r.IDs) == 0 && r.Path != "" {
		common = append(common, entity{What: &reference{Display: r.Path}, Type: &coding{System: sysEntityType, Code: "2", Display: "System Object"}})
	}
	if req := requestEntity(r); req != nil {
		common = append(common, *req)
	}
	patient := func(p string) entity {
		return entity{What: &reference{Reference: p}, Type: &coding{System: sysEntityType, Code: "1", Display: "Person"}, Role: &coding{System: sysObjectRole, Code: "1", Display: "Patient"}}
	}
	if r.Interaction == "search-type" && len(r.Patients) > 1 {
		out := make([]Event, 0, len(r.Patients))
		for i, p := range r.Patients {
			ev := base
			ev.ID = fmt.Sprintf("%d-%d", r.Seq, i+1)
			ev.Entity = append([]entity{patient(p)}, common...)
			out = append(out, ev)
		}
		return out
	}
	for _, p := range r.Patients {
		base.Entity = append(base.Entity, patient(p))
	}
	base.Entity = append(base.Entity, common...)
	return []Event{base}
}

// outcomeDesc is the record's detail, or its HTTP status; an aggregated
// record (one AuditEvent for its window) says how many requests it stands
// for and over which span.
func outcomeDesc(r *Record) string {
	d := r.Detail
	if r.Count > 0 {
		d = fmt.Sprintf("%d requests answered HTTP %d from %s to %s", r.Count, r.Status,
			r.Time.UTC().Format(time.RFC3339Nano), r.Until.UTC().Format(time.RFC3339Nano)) + strings.TrimSuffix(": "+r.Detail, ": ")
	}
	if d == "" && r.Status > 0 {
		d = fmt.Sprintf("HTTP %d", r.Status)
	}
	return d
}

// requestEntity names the HTTP request(s) a record is about: the server's
// request id (the X-Request-Id of the answer and the log), the id the
// client sent, and for an aggregated record how many requests it counts.
func requestEntity(r *Record) *entity {
	var ds []detail
	add := func(typ, v string) {
		if v != "" {
			ds = append(ds, detail{Type: typ, ValueString: v})
		}
	}
	add("requestId", r.RequestID)
	add("clientRequestId", r.ClientRequestID)
	if r.Count > 0 {
		add("count", fmt.Sprint(r.Count))
	}
	if len(ds) == 0 {
		return nil
	}
	return &entity{Type: &coding{System: sysEntityType, Code: "2", Display: "System Object"}, What: &reference{Display: "HTTP request"}, Detail: ds}
}

func outcomeCode(status int) string {
	switch {
	case status == 0 || status < 400:
		return "0"
	case status < 500:
		return "4"
	}
	return "8"
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
