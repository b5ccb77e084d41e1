package events

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/messaging"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/eventgrid/azeventgrid"
)

// eventGrid publishes to an Event Grid topic with the Azure SDK's
// publisher client (azeventgrid): the topic's access key
// (FHIRFACADE_EVENTGRID_KEY, sent as aeg-sas-key) or, when unset, Entra ID
// through azidentity's default credential chain.
type eventGrid struct {
	name   string
	client *azeventgrid.Client
	src    Source
	schema Schema
}

func newEventGrid(raw string, c Config) (Sink, error) {
	endpoint := strings.TrimPrefix(raw, "eventgrid+")
	opts := &azeventgrid.ClientOptions{}
	if c.EventGridTransport != nil {
		opts.Transport = c.EventGridTransport
	}
	var cl *azeventgrid.Client
	var err error
	if c.EventGridKey != "" {
		cl, err = azeventgrid.NewClientWithSharedKeyCredential(endpoint, azcore.NewKeyCredential(c.EventGridKey), opts)
	} else {
		cred, cerr := azidentity.NewDefaultAzureCredential(nil)
		if cerr != nil {
			return nil, fmt.Errorf("%s: no FHIRFACADE_EVENTGRID_KEY and no Entra ID credential: %v", redactURL(raw), cerr)
		}
		cl, err = azeventgrid.NewClient(endpoint, cred, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %v", redactURL(raw), err)
	}
	return &eventGrid{name: redactURL(raw), client: cl, src: c.Source, schema: c.Schema}, nil
}

func (g *eventGrid) Name() string { return g.name }
func (g *eventGrid) Close() error { return nil }

// Publish implements Sink: the batch is one request, accepted or not as a
// whole (Event Grid's publish is all-or-nothing).
func (g *eventGrid) Publish(ctx context.Context, evs []Event) (int, error) {
	var err error
	if g.schema == CloudEvents {
		ces := make([]messaging.CloudEvent, len(evs))
		for i, e := range evs {
			t := e.Change.At.UTC()
			schema := "#" + e.Change.Version
			subj := g.src.subject(e)
			ces[i] = messaging.CloudEvent{ID: e.ID, Source: g.src.Topic, SpecVersion: "1.0", Type: eventTypes[e.Change.Kind],
				Subject: &subj, Time: &t, DataSchema: &schema, DataContentType: ptr("application/json"), Data: g.src.data(e)}
		}
		_, err = g.client.PublishCloudEvents(ctx, ces, nil)
	} else {
		ges := make([]azeventgrid.Event, len(evs))
		for i, e := range evs {
			ges[i] = g.src.GridEvent(e)
		}
		_, err = g.client.PublishEvents(ctx, ges, nil)
	}
	if err != nil {
		return 0, gridErr(g.name, err)
	}
	return len(evs), nil
}

// gridErr classifies a failed publish: Event Grid's answer by its status
// (unavailableStatus: 429 and 5xx are retried; 400, 401, 413, … refuse
// the batch); no answer at all (the SDK's transport gave up: connection,
// DNS, timeout) is ErrSinkUnavailable.
func gridErr(name string, err error) error {
	e := fmt.Errorf("event grid %s: %w", name, err)
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return byStatus(re.StatusCode, e)
	}
	return sinkUnavailable(e)
}

func ptr[T any](v T) *T { return &v }
