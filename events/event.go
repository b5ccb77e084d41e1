// Package events is the facade's change-event stream (issue 13): every
// create, update and delete of a resource, whatever its route, as Azure
// Health Data Services publishes them (Microsoft.HealthcareApis.FhirResource*
// in the EventGridEvent schema or as CloudEvents 1.0). Events are queued
// durably in the control store (by the write fence and by the legacy
// poller), given a delivery order, and published to each sink with its own
// cursor: at-least-once, in order, retried with backoff, dead-lettered
// after a number of attempts.
//
// Events carry ids only (type, id, version): no PHI, as Azure does.
package events

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/eventgrid/azeventgrid"
	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/fhirfacade/fhirfacade/control"
)

// Kind is what happened to a resource.
type Kind string

// The kinds, as stored in the control store.
const (
	Created Kind = control.EventCreated
	Updated Kind = control.EventUpdated
	Deleted Kind = control.EventDeleted
)

// eventTypes are Azure's event type names by kind.
var eventTypes = map[Kind]string{
	Created: "Microsoft.HealthcareApis.FhirResourceCreated",
	Updated: "Microsoft.HealthcareApis.FhirResourceUpdated",
	Deleted: "Microsoft.HealthcareApis.FhirResourceDeleted",
}

// Change is one committed write an event is due for.
type Change struct {
	Type, ID, Version string
	Kind              Kind
	// At is when the change happened (the write's time, or the legacy
	// row's last-updated time); zero means now.
	At time.Time
}

// Event is one queued change event, as read back for delivery.
type Event struct {
	Pos      int64 // delivery order
	ID       string
	Change   Change
	QueuedAt time.Time
}

// Schema is an event encoding.
type Schema string

// The schemas (FHIRFACADE_EVENT_SCHEMA).
const (
	EventGrid   Schema = "eventgrid"
	CloudEvents Schema = "cloudevents"
)

// ParseSchema reads FHIRFACADE_EVENT_SCHEMA ("" is eventgrid).
func ParseSchema(s string) (Schema, error) {
	switch Schema(s) {
	case "", EventGrid:
		return EventGrid, nil
	case CloudEvents:
		return CloudEvents, nil
	}
	return "", fmt.Errorf("FHIRFACADE_EVENT_SCHEMA: %q is neither eventgrid nor cloudevents", s)
}

// Source is what every event names as its origin: the FHIR account (the
// host of FHIRFACADE_BASE_URL, as Azure's events name
// {account}.fhir.azurehealthcareapis.com) and the topic (the base URL).
type Source struct {
	Account string
	Topic   string
}

// SourceOf derives the Source from the public base URL.
func SourceOf(baseURL string) (Source, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Host == "" {
		return Source{}, fmt.Errorf("FHIRFACADE_BASE_URL: %q is not an absolute URL (events name its host)", baseURL)
	}
	return Source{Account: u.Host, Topic: baseURL}, nil
}

// Data is the event's data, Azure's fields.
type Data struct {
	ResourceType        string          `json:"resourceType"`
	ResourceFhirAccount string          `json:"resourceFhirAccount"`
	ResourceFhirID      string          `json:"resourceFhirId"`
	ResourceVersionID   json.RawMessage `json:"resourceVersionId"`
}

// data is e's data: the version is a JSON number when it is one (Azure's
// are), otherwise a string.
func (s Source) data(e Event) Data {
	v, _ := json.Marshal(e.Change.Version)
	if _, err := strconv.ParseInt(e.Change.Version, 10, 64); err == nil {
		v = json.RawMessage(e.Change.Version)
	}
	return Data{ResourceType: e.Change.Type, ResourceFhirAccount: s.Account, ResourceFhirID: e.Change.ID, ResourceVersionID: v}
}

func (s Source) subject(e Event) string {
	return s.Account + "/" + e.Change.Type + "/" + e.Change.ID
}

// GridEvent is e in the EventGridEvent schema (the Azure SDK's model).
func (s Source) GridEvent(e Event) azeventgrid.Event {
	typ, subj, ver, meta := eventTypes[e.Change.Kind], s.subject(e), e.Change.Version, "1"
	at := e.Change.At.UTC()
	id, topic := e.ID, s.Topic
	return azeventgrid.Event{ID: &id, Topic: &topic, Subject: &subj, Data: s.data(e), EventType: &typ,
		DataVersion: &ver, MetadataVersion: &meta, EventTime: &at}
}

// CloudEvent is e as a CloudEvents 1.0 event (the CNCF SDK's model);
// dataschema is "#<version>", as Azure's are. The SDK's Validate would
// refuse that relative URI (the spec asks for an absolute one): Azure's
// own shape wins here, since consumers written against Azure read it, and
// every other attribute is checked by hand below.
func (s Source) CloudEvent(e Event) (ce.Event, error) {
	c := ce.New(ce.CloudEventsVersionV1)
	c.SetID(e.ID)
	c.SetSource(s.Topic)
	c.SetType(eventTypes[e.Change.Kind])
	c.SetSubject(s.subject(e))
	c.SetTime(e.Change.At.UTC())
	c.SetDataSchema("#" + e.Change.Version)
	if err := c.SetData(ce.ApplicationJSON, s.data(e)); err != nil {
		return c, err
	}
	if c.ID() == "" || c.Source() == "" || c.Type() == "" {
		return c, fmt.Errorf("events: event %q lacks id, source or type", e.ID)
	}
	return c, nil
}

// Encode is one event in schema, as one JSON object.
func (s Source) Encode(schema Schema, e Event) ([]byte, error) {
	if schema == CloudEvents {
		c, err := s.CloudEvent(e)
		if err != nil {
			return nil, err
		}
		return c.MarshalJSON()
	}
	// the SDKs' MarshalJSON directly: json.Marshal would check and compact
	// their output once more, a fifth of the publisher's CPU per event
	return s.GridEvent(e).MarshalJSON()
}

// EncodeBatch is events in schema as one HTTP body: an EventGridEvent
// JSON array, or a CloudEvents JSON batch.
func (s Source) EncodeBatch(schema Schema, evs []Event) ([]byte, error) {
	out := make([]json.RawMessage, len(evs))
	for i, e := range evs {
		b, err := s.Encode(schema, e)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return json.Marshal(out)
}

func fromRow(r control.EventRow) Event {
	return Event{Pos: r.Pos, ID: r.EventID, QueuedAt: r.QueuedAt,
		Change: Change{Type: r.Type, ID: r.Resource, Version: r.Version, Kind: Kind(r.Kind), At: r.OccurredAt}}
}

// After lists up to n published events after position pos (what
// `fhirfacade events tail` follows).
func After(ctx context.Context, ctl *control.Store, pos int64, n int) ([]Event, error) {
	rows, err := ctl.EventsAfter(ctx, pos, n)
	if err != nil {
		return nil, err
	}
	out := make([]Event, len(rows))
	for i, r := range rows {
		out[i] = fromRow(r)
	}
	return out, nil
}
