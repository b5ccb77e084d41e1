package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/events"
	"github.com/fhirfacade/fhirfacade/events/poll"
	"github.com/fhirfacade/fhirfacade/routing"
)

// eventOpts are serve's change-event settings.
type eventOpts struct {
	sinks, schema, webhookSecret, eventGridKey string
	maxAttempts                                int
	legacyPoll                                 time.Duration

	parsed []events.Sink
	cfg    events.Config
}

func (o *eventOpts) flags(f *pflag.FlagSet) {
	f.StringVar(&o.sinks, "event-sinks", "", "change-event sinks, comma-separated: http(s):// webhook, nats://host:4222/SUBJECT JetStream, eventgrid+https://<topic endpoint>")
	f.StringVar(&o.schema, "event-schema", "eventgrid", "change-event schema: eventgrid or cloudevents")
	f.StringVar(&o.webhookSecret, "event-webhook-secret", "", "HMAC-SHA256 key of the webhook signature header (X-Fhirfacade-Signature)")
	f.StringVar(&o.eventGridKey, "eventgrid-key", "", "Event Grid topic access key (none: Entra ID through azidentity)")
	f.IntVar(&o.maxAttempts, "event-max-attempts", 8, "attempts per event and sink before it goes to the dead-letter table")
	f.DurationVar(&o.legacyPoll, "legacy-poll", 5*time.Second, "how often direct legacy changes are looked for (change events)")
}

// check validates the settings and builds the sinks; errors name the
// variable.
func (o *eventOpts) check(base string) error {
	schema, err := events.ParseSchema(o.schema)
	if err != nil {
		return err
	}
	if o.maxAttempts < 1 {
		return fmt.Errorf("FHIRFACADE_EVENT_MAX_ATTEMPTS=%d: want 1 or more", o.maxAttempts)
	}
	if o.legacyPoll < 100*time.Millisecond {
		return fmt.Errorf("FHIRFACADE_LEGACY_POLL=%v: want 100ms or more", o.legacyPoll)
	}
	src, err := events.SourceOf(base)
	if err != nil {
		return err
	}
	o.cfg = events.Config{Source: src, Schema: schema, WebhookSecret: o.webhookSecret, EventGridKey: o.eventGridKey}
	o.parsed, err = events.ParseSinks(o.sinks, o.cfg)
	return err
}

// eventParts is what the event stream runs over.
type eventParts struct {
	ctl     *control.Store
	router  *routing.Router
	watcher *routing.Watcher
	legacy  backend.Backend
	types   []string
}

// start makes the router queue an event for every write and runs the
// publisher (sequencing, and every sink) and the legacy poller until ctx
// ends; the returned func waits for them and closes the sinks.
func (o *eventOpts) start(ctx context.Context, p eventParts, log *slog.Logger, metrics prometheus.Registerer) func() {
	q := events.NewQueue(p.ctl)
	// events start when a sink is configured (as an Event Grid
	// subscription sees only the events after it exists): without one a
	// row per write would cost a statement and pile up for nobody
	if len(o.parsed) > 0 {
		p.router.SetEvents(q, log)
	}
	// the publisher runs even so: it sequences what an earlier run queued
	// and prunes delivered events
	pub := events.NewPublisher(p.ctl, q, o.parsed, events.Options{MaxAttempts: o.maxAttempts}, log, metrics)
	src := &poll.Legacy{Backend: p.legacy, Ctl: p.ctl, Queue: q, Types: p.types, Overlap: time.Second, Settle: 2 * time.Second, FullScanEvery: 6, Log: log,
		Polled: func(typ string) bool {
			return routing.States[p.watcher.Current().State(typ)].Writes == routing.SideLegacy
		}}
	done := make(chan struct{}, 2)
	go func() { pub.Run(ctx); done <- struct{}{} }()
	// the poller reads every legacy-written table every few seconds and
	// keeps a copy of its keys: load on the system of record that only a
	// sink justifies
	if len(o.parsed) > 0 {
		go func() { poll.Run(ctx, src, o.legacyPoll, log); done <- struct{}{} }()
	} else {
		log.Info("no FHIRFACADE_EVENT_SINKS: no change events are queued (they start when a sink is configured)")
		done <- struct{}{}
	}
	return func() {
		<-done
		<-done
		pub.Close()
	}
}

func eventsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "events", Short: "Change events (create, update, delete of every resource, whatever its route)"}
	cmd.AddCommand(eventsTailCmd(), eventsStatusCmd())
	return cmd
}

func eventsStatusCmd() *cobra.Command {
	var dsn string
	c := &cobra.Command{
		Use:   "status",
		Short: "Show each sink's delivery: its position, events behind, refusals of the next event, dead letters, lease and last error (a refusal, or the sink's outage)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return eventsStatus(cmd.Context(), dsn)
		},
	}
	c.Flags().StringVar(&dsn, "control-dsn", defaultControlDSN, "control store: postgres:// or sqlite://PATH")
	bindEnv(c)
	return c
}

// eventsStatus prints every sink's cursor: LAST ERROR is why the next
// event is not delivered yet ("-" while delivery goes well).
func eventsStatus(ctx context.Context, dsn string) error {
	ctl, err := control.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer ctl.Close()
	sinks, err := ctl.EventSinks(ctx)
	if err != nil {
		return fmt.Errorf("FHIRFACADE_CONTROL_DSN: %w", err)
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SINK\tPOS\tBEHIND\tATTEMPTS\tDEAD LETTERS\tLEASE UNTIL\tLAST ERROR")
	for _, s := range sinks {
		lease, last := "-", "-"
		if !s.LeaseUntil.IsZero() {
			lease = s.LeaseUntil.UTC().Format(time.RFC3339)
		}
		if s.LastError != "" {
			last = s.LastError
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%s\t%s\n", s.Sink, s.Pos, s.Behind, s.Attempts, s.DeadLetters, lease, last)
	}
	return w.Flush()
}

// tailOpts are `events tail`'s flags.
type tailOpts struct {
	dsn, baseURL, schema string
	all                  bool
	count                int
}

func eventsTailCmd() *cobra.Command {
	o := &tailOpts{}
	c := &cobra.Command{
		Use:   "tail",
		Short: "Print change events as they are published, one JSON object per line",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return tailEvents(cmd.Context(), o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.dsn, "control-dsn", defaultControlDSN, "control store: postgres:// or sqlite://PATH")
	f.StringVar(&o.baseURL, "base-url", "http://"+defaultListen+"/fhir", "public FHIR base URL (events name its host)")
	f.StringVar(&o.schema, "event-schema", "eventgrid", "eventgrid or cloudevents")
	f.BoolVar(&o.all, "all", false, "print every stored event first (default: only new ones)")
	f.IntVar(&o.count, "count", 0, "stop after this many events (0: follow until interrupted)")
	bindEnv(c)
	return c
}

// tailEvents follows the published events in the control store.
func tailEvents(ctx context.Context, o *tailOpts) error {
	schema, err := events.ParseSchema(o.schema)
	if err != nil {
		return err
	}
	src, err := events.SourceOf(o.baseURL)
	if err != nil {
		return err
	}
	ctl, err := control.Open(ctx, o.dsn)
	if err != nil {
		return err
	}
	defer ctl.Close()
	var pos int64
	if !o.all {
		if pos, err = ctl.LastEventPos(ctx); err != nil {
			return fmt.Errorf("FHIRFACADE_CONTROL_DSN: %w", err)
		}
	}
	printed := 0
	for ctx.Err() == nil {
		evs, err := events.After(ctx, ctl, pos, 500)
		if err != nil {
			return fmt.Errorf("FHIRFACADE_CONTROL_DSN: %w", err)
		}
		for _, e := range evs {
			b, err := src.Encode(schema, e)
			if err != nil {
				return err
			}
			fmt.Fprintln(os.Stdout, string(b))
			pos = e.Pos
			if printed++; o.count > 0 && printed >= o.count {
				return nil
			}
		}
		if len(evs) == 0 {
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	return nil
}
