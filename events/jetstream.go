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

var _ AsyncSink = (*natsSink)(nil)

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

// maxPending bounds the messages sent and not yet acknowledged on the
// connection.
const maxPending = 16384

// connect opens the connection and makes sure a stream takes the subject.
// Its failures are ErrSinkUnavailable: no event was sent, so none was
// refused.
func (s *natsSink) connect(ctx context.Context) (jetstream.JetStream, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.js != nil {
		return s.js, nil
	}
	nc, err := nats.Connect(s.server, nats.Name("fhirfacade events"), nats.Timeout(5*time.Second))
	if err != nil {
		return nil, sinkUnavailable(fmt.Errorf("jetstream %s: %w", s.name, err))
	}
	// room for every batch the publisher keeps in flight (Options.InFlight
	// x Batch), beyond which PublishMsgAsync would stall
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(maxPending))
	if err != nil {
		nc.Close()
		return nil, sinkUnavailable(fmt.Errorf("jetstream %s: %w", s.name, err))
	}
	if _, err := js.StreamNameBySubject(ctx, s.subject); errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: s.stream, Subjects: []string{s.subject}, Duplicates: 10 * time.Minute})
		if err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			nc.Close()
			return nil, sinkUnavailable(fmt.Errorf("jetstream %s: create stream %s: %w", s.name, s.stream, err))
		}
	} else if err != nil {
		nc.Close()
		return nil, sinkUnavailable(fmt.Errorf("jetstream %s: %w", s.name, err))
	}
	s.nc, s.js = nc, js
	return js, nil
}

// Publish implements Sink: Send, then Wait.
func (s *natsSink) Publish(ctx context.Context, evs []Event) (int, error) {
	return s.Send(ctx, evs).Wait(ctx)
}

// Send implements AsyncSink: every event of the batch is published
// asynchronously, in order on one connection; the acknowledgements are
// awaited by Wait.
func (s *natsSink) Send(ctx context.Context, evs []Event) Acks {
	js, err := s.connect(ctx)
	if err != nil {
		return &natsAcks{s: s, err: err}
	}
	a := &natsAcks{s: s, futures: make([]jetstream.PubAckFuture, 0, len(evs)), deadline: time.Now().Add(ackTimeout)}
	for _, e := range evs {
		body, err := s.src.Encode(s.schema, e)
		if err != nil {
			a.err = err
			break
		}
		m := nats.NewMsg(s.subject)
		m.Data = body
		m.Header.Set("Content-Type", contentType(s.schema))
		f, err := js.PublishMsgAsync(m, jetstream.WithMsgID(e.ID))
		if err != nil {
			a.err = natsErr(s.name, err)
			break
		}
		a.futures = append(a.futures, f)
	}
	return a
}

// ackTimeout is how long a sent batch's acks may take.
const ackTimeout = 30 * time.Second

// natsAcks are a batch's pending JetStream acks, in send order; err is why
// the events after the futures were not sent.
type natsAcks struct {
	s        *natsSink
	futures  []jetstream.PubAckFuture
	deadline time.Time
	err      error
}

// Wait implements Acks: the acks are read in order; the first failure
// ends the acknowledged prefix (a later event the stream stored anyway is
// sent again with its Nats-Msg-Id, and deduplicated).
func (a *natsAcks) Wait(ctx context.Context) (int, error) {
	timeout := time.NewTimer(time.Until(a.deadline))
	defer timeout.Stop()
	for i, f := range a.futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return i, natsErr(a.s.name, err)
		case <-timeout.C:
			return i, sinkUnavailable(fmt.Errorf("jetstream %s: no acknowledgement within %v", a.s.name, ackTimeout))
		case <-ctx.Done():
			return i, ctx.Err()
		}
	}
	if a.err != nil {
		a.s.dropClosed()
	}
	return len(a.futures), a.err
}

// dropClosed forgets a connection that closed, so the next Send connects
// again.
func (s *natsSink) dropClosed() {
	s.mu.Lock()
	closed := s.nc != nil && s.nc.IsClosed()
	s.mu.Unlock()
	if closed {
		s.Close()
	}
}

// contentType is the content type of one encoded event.
func contentType(schema Schema) string {
	if schema == CloudEvents {
		return "application/cloudevents+json"
	}
	return "application/json"
}

// natsRefusals are nats.go's own refusals of one message (before it is
// sent): they say "not this event", like a JetStream API error.
var natsRefusals = []error{nats.ErrMaxPayload, nats.ErrBadSubject, nats.ErrBadHeaderMsg}

// natsErr classifies a failed publish or ack: the stream's answer (a
// JetStream API error: a too-large message, a rejected subject, …) by its
// status (unavailableStatus: 503 — no storage left, JetStream off — is
// retried), a client-side refusal of the message as is; anything else
// (no responders, disconnected, stalled, timed out) is ErrSinkUnavailable.
func natsErr(name string, err error) error {
	e := fmt.Errorf("jetstream %s: %w", name, err)
	var je jetstream.JetStreamError
	if errors.As(err, &je) && je.APIError() != nil {
		return byStatus(je.APIError().Code, e)
	}
	for _, r := range natsRefusals {
		if errors.Is(err, r) {
			return e
		}
	}
	return sinkUnavailable(e)
}
