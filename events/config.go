package events

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// ErrConfig is a bad event configuration; messages name the variable.
var ErrConfig = errors.New("bad event configuration")

// Config is what sinks are built with.
type Config struct {
	Source Source
	Schema Schema
	// WebhookSecret signs webhook bodies (FHIRFACADE_EVENT_WEBHOOK_SECRET;
	// empty: unsigned).
	WebhookSecret string
	// EventGridKey is the topic's access key (FHIRFACADE_EVENTGRID_KEY;
	// empty: Entra ID through azidentity's default credential).
	EventGridKey string
	// EventGridTransport replaces the Azure SDK's HTTP transport (tests:
	// a loopback TLS server's client). nil in production.
	EventGridTransport policy.Transporter
}

// sinkKinds builds a sink by URL scheme.
var sinkKinds = map[string]func(raw string, c Config) (Sink, error){
	"http":            newWebhook,
	"https":           newWebhook,
	"nats":            newNATS,
	"eventgrid+https": newEventGrid,
}

// ParseSinks builds the sinks of FHIRFACADE_EVENT_SINKS (comma-separated
// URLs; "" is none). Errors name the variable and the bad entry (without
// its credentials).
func ParseSinks(list string, c Config) ([]Sink, error) {
	var out []Sink
	seen := map[string]bool{}
	for _, raw := range strings.Split(list, ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("%w: FHIRFACADE_EVENT_SINKS: %q is not a URL (want http(s)://…, nats://host:4222/SUBJECT or eventgrid+https://…)", ErrConfig, redactURL(raw))
		}
		mk, ok := sinkKinds[strings.ToLower(u.Scheme)]
		if !ok {
			return nil, fmt.Errorf("%w: FHIRFACADE_EVENT_SINKS: %s: scheme %q is not one of http, https, nats, eventgrid+https", ErrConfig, redactURL(raw), u.Scheme)
		}
		s, err := mk(raw, c)
		if err != nil {
			return nil, fmt.Errorf("%w: FHIRFACADE_EVENT_SINKS: %v", ErrConfig, err)
		}
		if seen[s.Name()] {
			return nil, fmt.Errorf("%w: FHIRFACADE_EVENT_SINKS: %s is named twice", ErrConfig, s.Name())
		}
		seen[s.Name()] = true
		out = append(out, s)
	}
	return out, nil
}

// redactURL is raw without a password or query values (a sink's name in
// logs, metrics and its cursor).
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	q := u.Query()
	for k := range q {
		if k != "stream" {
			q.Set(k, "xxx")
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}
