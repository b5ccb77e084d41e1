package events_test

import (
	"context"
	"strings"
	"testing"

	"github.com/fhirfacade/fhirfacade/events"
)

// TestWebhookErrorsHideTheURL: a webhook that cannot be reached fails with
// an error naming the sink without its query (where webhook keys travel:
// Azure Functions' code=, Logic Apps' sig=), for both schemas' handshakes.
func TestWebhookErrorsHideTheURL(t *testing.T) {
	for _, schema := range []events.Schema{events.CloudEvents, events.EventGrid} {
		sinks, err := events.ParseSinks("http://127.0.0.1:1/hook?code=S3CRETKEY", events.Config{Source: src, Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		_, err = sinks[0].Publish(context.Background(), []events.Event{sample(events.Created, "1")})
		if err == nil || strings.Contains(err.Error(), "S3CRETKEY") {
			t.Errorf("%s: publishing to an unreachable webhook: %v (want an error without the key)", schema, err)
		}
	}
}
