package events

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// natsSink publishes each event to a JetStream subject (nats.go and its
// jetstream package), with Nats-Msg-Id set to the event id, so that the
// stream's duplicate window absorbs an event sent again after a crash or a
// partly acknowledged batch. The stream is created when no stream takes
// the subject (named after it, or ?stream=NAME).
type natsSink struct {
	name, subject, stream, server string
	src                           Source
	schema                        Schema

	mu sync.Mutex
	nc *nats.Conn
	js jetstream.JetStream
}

var streamNameUnsafe = regexp.MustCompile(`[^A-Za-z0-9_-]`)

func newNATS(raw string, c Config) (Sink, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	subject := strings.Trim(u.Path, "/")
	if subject == "" || strings.ContainsAny(subject, " *>/") {
		return nil, fmt.Errorf("%s: a JetStream sink needs one literal subject: nats://host:4222/SUBJECT", redactURL(raw))
	}
	stream := u.Query().Get("stream")
	if stream == "" {
		stream = strings.ToUpper(streamNameUnsafe.ReplaceAllString(subject, "_"))
	}
	server := (&url.URL{Scheme: "nats", User: u.User, Host: u.Host}).String()
	// connected at first publish: a broker that is down at start-up delays
	// delivery (retried), it does not stop the facade
	return &natsSink{name: redactURL(raw), subject: subject, stream: stream, server: server, src: c.Source, schema: c.Schema}, nil
}

func (s *natsSink) Name() string { return s.name }

func (s *natsSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.nc != nil {
		s.nc.Close()
		s.nc, s.js = nil, nil
	}
	return nil
}

// connect opens the connection and makes sure a stream takes the subject.
func (s *natsSink) connect(ctx context.Context) (jetstream.JetStream, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.js != nil {
		return s.js, nil
	}
	nc, err := nats.Connect(s.server, nats.Name("fhirfacade events"), nats.Timeout(5*time.Second))
	if err != nil {
		return nil, fmt.Errorf("jetstream %s: %w", s.name, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("jetstream %s: %w", s.name, err)
	}
	if _, err := js.StreamNameBySubject(ctx, s.subject); errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: s.stream, Subjects: []string{s.subject}, Duplicates: 10 * time.Minute})
		if err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			nc.Close()
			return nil, fmt.Errorf("jetstream %s: create stream %s: %w", s.name, s.stream, err)
		}
	} else if err != nil {
		nc.Close()
		return nil, fmt.Errorf("jetstream %s: %w", s.name, err)
	}
	s.nc, s.js = nc, js
	return js, nil
}

// Publish implements Sink: every event of the batch is published
// asynchronously (in order on one connection), then the acknowledgements
// are awaited in order; the acknowledged prefix counts.
func (s *natsSink) Publish(ctx context.Context, evs []Event) (int, error) {
	js, err := s.connect(ctx)
	if err != nil {
		return 0, err
	}
	futures := make([]jetstream.PubAckFuture, 0, len(evs))
	var pubErr error
	for _, e := range evs {
		body, err := s.src.Encode(s.schema, e)
		if err != nil {
			pubErr = err
			break
		}
		m := nats.NewMsg(s.subject)
		m.Data = body
		m.Header.Set("Content-Type", contentType(s.schema))
		f, err := js.PublishMsgAsync(m, jetstream.WithMsgID(e.ID))
		if err != nil {
			pubErr = fmt.Errorf("jetstream %s: %w", s.name, err)
			break
		}
		futures = append(futures, f)
	}
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	for i, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return i, fmt.Errorf("jetstream %s: %w", s.name, err)
		case <-timeout.C:
			return i, fmt.Errorf("jetstream %s: no acknowledgement within 30s", s.name)
		case <-ctx.Done():
			return i, ctx.Err()
		}
	}
	if pubErr != nil && s.nc != nil && s.nc.IsClosed() {
		s.Close()
	}
	return len(futures), pubErr
}

// contentType is the content type of one encoded event.
func contentType(schema Schema) string {
	if schema == CloudEvents {
		return "application/cloudevents+json"
	}
	return "application/json"
}
