package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/fhirfacade/fhirfacade/audit"
	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/catalog"
	"github.com/fhirfacade/fhirfacade/compare"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/facade"
	"github.com/fhirfacade/fhirfacade/facade/admin"
	"github.com/fhirfacade/fhirfacade/idmap"
	"github.com/fhirfacade/fhirfacade/internal/logcap"
	"github.com/fhirfacade/fhirfacade/legacy"
	"github.com/fhirfacade/fhirfacade/mappings"
	"github.com/fhirfacade/fhirfacade/migrations"
	"github.com/fhirfacade/fhirfacade/mirror"
	"github.com/fhirfacade/fhirfacade/pagetoken"
	"github.com/fhirfacade/fhirfacade/routing"
	"github.com/fhirfacade/fhirfacade/seed"
	"github.com/fhirfacade/fhirfacade/sqldb"
	"github.com/fhirfacade/fhirfacade/tombstone"
	"github.com/fhirfacade/fhirfacade/upstream"
)

// Defaults of the embedded configuration (ARCHITECTURE.md contracts).
const (
	defaultListen     = "127.0.0.1:8080"
	defaultLegacyDSN  = "sqlite://./data/legacy.db"
	defaultControlDSN = "sqlite://./data/control.db"
	demoPatients      = 300
)

type serveOpts struct {
	listen, legacyDSN, controlDSN, fhirURL, fhirAuth, fhirToken, mappingsDir, auth string
	issuer, audience, jwksURL, adminAccess, authorizeURL, tokenURL, audit          string
	pageSize, shadowWorkers, rateBurst                                             int
	shadowRate, rateLimit                                                          float64
	auditFailOpen                                                                  bool
	auditMode, cpuProfile                                                          string
	baseURL, allowedHosts, trustedProxies, opsListen                               string
	addr                                                                           *addresses
	jwksMaxAge                                                                     time.Duration
	events                                                                         eventOpts
	console                                                                        consoleOpts
	export                                                                         exportOpts
}

func serveCmd() *cobra.Command {
	o := &serveOpts{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the FHIR facade (no configuration: embedded SQLite demo on 127.0.0.1:8080)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serve(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", defaultListen, "address to serve")
	f.StringVar(&o.opsListen, "ops-listen", defaultOpsListen, "separate address for /healthz, /readyz and /metrics (not served on --listen)")
	f.StringVar(&o.baseURL, "base-url", "", "public FHIR base URL used in every absolute URL (links, Location) (default http://<listen>/fhir)")
	f.StringVar(&o.allowedHosts, "allowed-hosts", "", "further Host names the API answers for, comma-separated, each name or name:port (always: the base URL's host, and localhost/127.0.0.1/[::1] with the listen port)")
	f.StringVar(&o.trustedProxies, "trusted-proxies", "", "CIDRs of proxies whose X-Forwarded-*/Forwarded headers are believed, comma-separated (default: none)")
	f.StringVar(&o.legacyDSN, "legacy-dsn", "", "legacy database: sqlserver://, postgres://, mysql:// or sqlite://PATH (default "+defaultLegacyDSN+", created and seeded on first run)")
	f.StringVar(&o.controlDSN, "control-dsn", defaultControlDSN, "control store: postgres:// or sqlite://PATH")
	f.StringVar(&o.fhirURL, "fhir-url", "", "upstream FHIR base URL (none: every type stays on legacy)")
	f.StringVar(&o.fhirAuth, "fhir-auth", "none", "upstream authentication: none, bearer, azure")
	f.StringVar(&o.fhirToken, "fhir-token", "", "bearer token for --fhir-auth=bearer")
	f.Float64Var(&o.shadowRate, "shadow-sample", 0.1, "share of shadow-route reads compared with the FHIR server")
	f.IntVar(&o.shadowWorkers, "shadow-workers", 4, "background workers for shadow comparisons")
	f.StringVar(&o.mappingsDir, "mappings", "", "folder of mapping specs (default: the embedded demo specs)")
	f.StringVar(&o.auth, "auth", "off", "client authorization: off (loopback only) or smart")
	f.StringVar(&o.issuer, "issuer", "", "accepted token issuers (iss), comma-separated: Entra ID v1 and v2 issuers differ")
	f.StringVar(&o.audience, "audience", "", "accepted token audiences (aud), comma-separated")
	f.StringVar(&o.jwksURL, "jwks-url", "", "the issuer's JWKS URL (https unless on loopback)")
	f.DurationVar(&o.jwksMaxAge, "jwks-max-age", time.Hour, "refetch the JWKS once it is this old: a key the issuer withdraws is trusted at most this long (1m to 24h)")
	f.StringVar(&o.adminAccess, "admin-access", "fhirfacade.admin", "scope or role /admin requires")
	f.StringVar(&o.authorizeURL, "authorize-url", "", "authorization endpoint for /.well-known/smart-configuration (default: from the issuer's OpenID configuration)")
	f.StringVar(&o.tokenURL, "token-url", "", "token endpoint for /.well-known/smart-configuration (default: from the issuer's OpenID configuration)")
	f.StringVar(&o.audit, "audit", "on", "audit trail of every FHIR interaction: on or off")
	f.BoolVar(&o.auditFailOpen, "audit-fail-open", false, "answer even when the audit record cannot be stored (default: 503)")
	f.StringVar(&o.auditMode, "audit-mode", "sync", "sync: answer after the audit record is committed; async: after it is queued (faster; a crash loses the last moments' records)")
	f.Float64Var(&o.rateLimit, "rate-limit", 0, "requests per second per client id (0: unlimited)")
	f.IntVar(&o.rateBurst, "rate-burst", 0, "token bucket size per client (default: the rate, at least 1)")
	f.IntVar(&o.pageSize, "page-size", 20, "default search page size")
	o.console.flags(f)
	f.StringVar(&o.cpuProfile, "cpu-profile", "", "write a Go CPU profile to FILE until the server stops (for benchmarks)")
	o.events.flags(f)
	addExportFlags(f, &o.export)
	bindEnv(cmd)
	return cmd
}

// check validates the configuration before anything is opened; each error
// names its variable.
func (o *serveOpts) check() error {
	host, _, err := net.SplitHostPort(o.listen)
	if err != nil {
		return fmt.Errorf("FHIRFACADE_LISTEN=%q: want host:port", o.listen)
	}
	switch o.auth {
	case "off":
		ip := net.ParseIP(host)
		if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("FHIRFACADE_AUTH=off is allowed only on a loopback address, and FHIRFACADE_LISTEN=%s is not one: PHI must not be served without authorization", o.listen)
		}
	case "smart":
		if err := o.checkSMART(); err != nil {
			return err
		}
	default:
		return fmt.Errorf("FHIRFACADE_AUTH=%q: want off or smart", o.auth)
	}
	switch o.fhirAuth {
	case "none", "azure":
	case "bearer":
		if o.fhirToken == "" {
			return fmt.Errorf("FHIRFACADE_FHIR_AUTH=bearer needs FHIRFACADE_FHIR_TOKEN")
		}
	default:
		return fmt.Errorf("FHIRFACADE_FHIR_AUTH=%q: want none, bearer or azure", o.fhirAuth)
	}
	if o.shadowRate < 0 || o.shadowRate > 1 {
		return fmt.Errorf("FHIRFACADE_SHADOW_SAMPLE=%v: want 0 to 1", o.shadowRate)
	}
	if o.shadowWorkers < 1 || o.shadowWorkers > 64 {
		return fmt.Errorf("FHIRFACADE_SHADOW_WORKERS=%d: want 1 to 64", o.shadowWorkers)
	}
	switch o.audit {
	case "on":
	case "off":
		if o.auth == "smart" {
			return fmt.Errorf("FHIRFACADE_AUDIT=off is allowed only with FHIRFACADE_AUTH=off (local use): an authorized deployment serves PHI and must keep its audit trail")
		}
	default:
		return fmt.Errorf("FHIRFACADE_AUDIT=%q: want on or off", o.audit)
	}
	if o.auditMode != "sync" && o.auditMode != "async" {
		return fmt.Errorf("FHIRFACADE_AUDIT_MODE=%q: want sync or async", o.auditMode)
	}
	if o.rateLimit < 0 || o.rateBurst < 0 {
		return fmt.Errorf("FHIRFACADE_RATE_LIMIT / FHIRFACADE_RATE_BURST: want 0 or more")
	}
	if o.pageSize < 1 || o.pageSize > 1000 {
		return fmt.Errorf("FHIRFACADE_PAGE_SIZE=%d: want 1 to 1000", o.pageSize)
	}
	if o.addr, err = o.checkAddresses(); err != nil {
		return err
	}
	if err := o.events.check(o.addr.base); err != nil {
		return err
	}
	if err := o.export.check(); err != nil {
		return err
	}
	return o.console.check(o.auth)
}

func loadMappings(dir string) (*mappings.Registry, error) {
	if dir == "" {
		return mappings.LoadEmbedded()
	}
	r, err := mappings.LoadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("FHIRFACADE_MAPPINGS: %w", err)
	}
	return r, nil
}

// openLegacy opens the legacy database; the embedded default is migrated
// and seeded on first use.
func openLegacy(ctx context.Context, dsn string, log *slog.Logger) (*sqldb.DB, error) {
	embedded := dsn == ""
	if embedded {
		dsn = defaultLegacyDSN
	}
	db, err := sqldb.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("FHIRFACADE_LEGACY_DSN: %w", err)
	}
	if embedded {
		if err := migrations.Up(db.DB, migrations.Legacy, db.Dialect.Name()); err != nil {
			db.Close()
			return nil, err
		}
		var n int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM pat_master").Scan(&n); err != nil {
			db.Close()
			return nil, err
		}
		if n < demoPatients {
			log.Info("seeding the embedded demo legacy database", slog.Int("patients", demoPatients))
			if err := seed.Run(ctx, db, seed.Options{Patients: demoPatients}); err != nil {
				db.Close()
				return nil, err
			}
		}
	}
	return db, nil
}

func serve(ctx context.Context, o *serveOpts) error {
	// every value a log line carries is capped (logcap): request values reach
	// the log through errors, ids and the outbox
	log := slog.New(logcap.Handler(slog.NewJSONHandler(os.Stderr, nil)))
	tuneGC()
	if err := o.check(); err != nil {
		return err
	}
	stopProfile, err := startCPUProfile(o.cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	st, err := openStores(ctx, o, log)
	if err != nil {
		return err
	}
	defer st.close()
	reg, ctl, sealer, db := st.reg, st.ctl, st.sealer, st.db
	metrics := newMetrics(db, ctl)
	types := map[string]bool{}
	for _, t := range reg.Types() {
		types[t] = true
	}
	fhir, err := upstreamBackend(o)
	if err != nil {
		return err
	}
	routes, watcher, err := startRoutes(ctx, ctl, reg.Types(), log)
	if err != nil {
		return err
	}
	legacyB, fhirB, cmp, err := wireBackends(ctx, o, ctl, db, reg, fhir, log, metrics)
	if err != nil {
		return err
	}
	outbox := mirror.NewOutbox(ctl.DB, log, metrics)
	if fhir == nil {
		warnUnserved(watcher.Current(), log)
	}
	router := routing.NewRouter(watcher, types, legacyB, fhirB, outbox, cmp)
	cat := serveCatalog(ctx, reg, fhir, router, log)
	authn, smartDoc, err := o.smart(ctx)
	if err != nil {
		return err
	}
	auditor, stopAudit := startAudit(ctx, o, ctl, metrics, log)
	defer stopAudit()
	evCtx, stopEvents := context.WithCancel(ctx)
	defer o.events.start(evCtx, eventParts{ctl: ctl, router: router, watcher: watcher, legacy: legacyB, types: reg.Types()}, log, metrics)()
	defer stopEvents()
	go outbox.Run(ctx, mirror.Ends{Legacy: tombstone.Bare(legacyB), FHIR: tombstone.Bare(fhirB), Reverse: router.Reverse}, 500*time.Millisecond)
	con, err := o.buildConsole(ctx, consoleParts{ctl: ctl, routes: routes, types: reg.Types(), legacy: legacyB, fhir: fhirB, metrics: metrics, authn: authn, log: log})
	if err != nil {
		return err
	}
	srv := facade.New(o.facadeConfig(facade.Config{
		Bulk: o.export.engine(ctx, ctl, router, fhir, log), Catalog: cat, Router: router, Sealer: sealer, Log: log, Metrics: metrics,
		Admin: admin.Routes(routes), Console: con, Auth: authn, SMART: smartDoc, Audit: auditor,
		Ready: map[string]func(context.Context) error{"legacy": db.PingContext, "control": ctl.DB.PingContext},
	}))
	api, ops, err := o.listenBoth()
	if err != nil {
		return err
	}
	log.Info("serving", slog.String("listen", api.Addr().String()), slog.String("ops_listen", ops.Addr().String()),
		slog.String("fhir_base", o.addr.base), slog.String("legacy", db.Redacted), slog.String("control", ctl.DB.Redacted))
	if err := srv.Run(ctx, api, ops); err != nil {
		return fmt.Errorf("FHIRFACADE_LISTEN=%s / FHIRFACADE_OPS_LISTEN=%s: %w", o.listen, o.opsListen, err)
	}
	return nil
}

// stores are what serve opens first: the specs, bound to the live legacy
// schema, and both databases.
type stores struct {
	reg    *mappings.Registry
	ctl    *control.Store
	sealer *pagetoken.Sealer
	db     *sqldb.DB
}

// openStores opens the specs, the control store and the legacy database,
// closing what it opened when a later step fails.
func openStores(ctx context.Context, o *serveOpts, log *slog.Logger) (*stores, error) {
	reg, err := loadMappings(o.mappingsDir)
	if err != nil {
		return nil, err
	}
	ctl, sealer, err := openControl(ctx, o.controlDSN)
	if err != nil {
		return nil, err
	}
	db, err := openLegacy(ctx, o.legacyDSN, log)
	if err != nil {
		ctl.Close()
		return nil, err
	}
	if err := reg.BindLive(ctx, db); err != nil {
		db.Close()
		ctl.Close()
		return nil, fmt.Errorf("FHIRFACADE_MAPPINGS: %w", err)
	}
	return &stores{reg: reg, ctl: ctl, sealer: sealer, db: db}, nil
}

func (s *stores) close() {
	s.db.Close()
	s.ctl.Close()
}

// startRoutes makes sure every mapped type has a route row and starts the
// watcher that keeps this process's snapshot of the table current.
func startRoutes(ctx context.Context, ctl *control.Store, types []string, log *slog.Logger) (*routing.Store, *routing.Watcher, error) {
	routes := routing.NewStore(ctl.DB)
	if err := routes.Ensure(ctx, types); err != nil {
		return nil, nil, fmt.Errorf("FHIRFACADE_CONTROL_DSN: %w", err)
	}
	watcher, err := newWatcher(ctx, routes, log)
	if err != nil {
		return nil, nil, fmt.Errorf("FHIRFACADE_CONTROL_DSN: %w", err)
	}
	go watcher.Run(ctx)
	return routes, watcher, nil
}

// newMetrics is the Prometheus registry with the process's and both
// connection pools' collectors.
func newMetrics(db *sqldb.DB, ctl *control.Store) *prometheus.Registry {
	metrics := prometheus.NewRegistry()
	metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(db.DB, "legacy"), collectors.NewDBStatsCollector(ctl.DB.DB, "control"),
		newReadPoolCollector(db.ReadPoolStat))
	return metrics
}

// openControl opens (and migrates) the control store and makes the page
// token sealer from the key every facade sharing the store uses.
func openControl(ctx context.Context, dsn string) (*control.Store, *pagetoken.Sealer, error) {
	ctl, err := control.Open(ctx, dsn)
	if err != nil {
		return nil, nil, err
	}
	key, err := ctl.Secret(ctx, "page-token-key", 32)
	if err == nil {
		var sealer *pagetoken.Sealer
		if sealer, err = pagetoken.New(key, 24*time.Hour); err == nil {
			return ctl, sealer, nil
		}
	}
	ctl.Close()
	return nil, nil, err
}

// upstreamRetry is the first wait before the FHIR server's
// CapabilityStatement is asked for again; it doubles up to a minute.
const upstreamRetry = 2 * time.Second

// serveCatalog is the catalog the facade serves: the mapped types, and with
// a FHIR server the types only it offers, read from its CapabilityStatement
// (and handed to the router). A server that cannot be read does not stop
// start-up (it may be down for a while): the mapped types are served alone,
// and the statement is asked for again in the background until it is read,
// so an outage at start-up does not leave those types answering 404 until
// the next restart.
func serveCatalog(ctx context.Context, reg *mappings.Registry, fhir *upstream.Backend, router *routing.Router, log *slog.Logger) *catalog.Live {
	// legacy is always served through the id map (wireBackends)
	specs := catalog.IDMapped(catalog.FromSpecs(reg))
	cat := catalog.NewLive(specs)
	if fhir == nil {
		return cat
	}
	try := func() error {
		actx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		raw, err := fhir.Client().Capabilities(actx)
		if err != nil {
			return err
		}
		up, err := catalog.FromCapabilities(raw)
		if err != nil {
			return err
		}
		merged, only := catalog.Merge(specs, up)
		// the router first: a type the catalog lists must have a backend
		router.ServeUpstreamOnly(only)
		cat.Set(merged)
		log.Info("types served by the FHIR server alone (no mapping spec)", slog.Int("types", len(only)), slog.String("first", strings.Join(only[:min(len(only), 10)], ",")))
		if gaps := catalog.NotOffered(specs, up); len(gaps) > 0 {
			log.Warn("mapped search parameters the FHIR server does not declare: they stop working when their type is routed to it", slog.String("missing", strings.Join(gaps, ",")))
		}
		return nil
	}
	err := try()
	if err == nil {
		return cat
	}
	log.Warn("the FHIR server's CapabilityStatement could not be read: serving the mapped types only until it can be", slog.String("error", err.Error()))
	go func() {
		for wait := upstreamRetry; ; wait = min(2*wait, time.Minute) {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			if try() == nil {
				return
			}
		}
	}()
	return cat
}

// upstreamBackend builds the FHIR server backend (nil when no URL is set).
func upstreamBackend(o *serveOpts) (*upstream.Backend, error) {
	if o.fhirURL == "" {
		return nil, nil
	}
	cfg := upstream.Config{BaseURL: o.fhirURL}
	switch o.fhirAuth {
	case "bearer":
		cfg.Tokens = upstream.StaticToken(o.fhirToken)
	case "azure":
		ts, err := upstream.NewAzureTokens(o.fhirURL)
		if err != nil {
			return nil, err
		}
		cfg.Tokens = ts
	}
	c, err := upstream.New(cfg)
	if err != nil {
		return nil, err
	}
	return upstream.NewBackend(c), nil
}

// tuneGC trades memory the facade does not need for CPU it does: a serving
// process allocates short-lived buffers per request, and with the default
// GOGC=100 the collector ran on a sizeable share of the CPU under load. The
// soft limit keeps the heap bounded whatever GOGC allows. GOGC and
// GOMEMLIMIT set in the environment win.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(128 << 20)
	}
}

// startCPUProfile writes a CPU profile to path until the returned func is
// called ("": none).
func startCPUProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("FHIRFACADE_CPU_PROFILE: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("FHIRFACADE_CPU_PROFILE: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// newWatcher keeps the route table current and logs every change.
func newWatcher(ctx context.Context, routes *routing.Store, log *slog.Logger) (*routing.Watcher, error) {
	return routing.NewWatcher(ctx, routes, 250*time.Millisecond, func(old, new *routing.Table) {
		for _, r := range new.List() {
			if old.State(r.Type) != r.State {
				log.Info("route changed", slog.String("type", r.Type), slog.String("from", string(old.State(r.Type))), slog.String("to", string(r.State)), slog.Int("version", r.Version))
			}
		}
	})
}

// warnUnserved names the types routed to a FHIR server that is not
// configured (they answer 503).
func warnUnserved(t *routing.Table, log *slog.Logger) {
	for _, r := range t.List() {
		if routing.States[r.State].Reads == routing.SideFHIR || routing.States[r.State].Mirror == routing.SideFHIR {
			log.Warn("type is routed to the FHIR server but FHIRFACADE_FHIR_URL is not set: it answers 503", slog.String("type", r.Type), slog.String("state", string(r.State)))
		}
	}
}

// startAudit starts the audit writer (nil with FHIRFACADE_AUDIT=off); the
// returned func stops it once the server is down and waits for it.
func startAudit(ctx context.Context, o *serveOpts, ctl *control.Store, metrics *prometheus.Registry, log *slog.Logger) (facade.Auditor, func()) {
	if o.audit != "on" {
		return nil, func() {}
	}
	w := audit.NewWriter(&audit.Store{DB: ctl.DB})
	w.Instrument(metrics)
	// not the signal's context: the writer must outlive the server's
	// shutdown, which still stores the records of requests in flight and
	// of the last window's counted refusals
	wctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() { w.Run(wctx); close(done) }()
	// on any return (a signal, or a listen error) the writer commits what
	// is queued, and serve waits for it before the control store closes;
	// cancelling here is what lets an early return end at all
	return w, func() {
		stop()
		<-done
		if n := w.Dropped(); n > 0 {
			// the store stayed down through shutdown's last retries
			log.Error("audit records lost at shutdown: the audit store was unavailable", slog.Int64("records", n))
		}
	}
}

// wireBackends builds the legacy backend (through the id map, so resources
// created on FHIR keep their ids in legacy), the FHIR backend and the
// shadow comparer (both nil without a FHIR server).
func wireBackends(ctx context.Context, o *serveOpts, ctl *control.Store, db *sqldb.DB, reg *mappings.Registry, fhir *upstream.Backend, log *slog.Logger, metrics *prometheus.Registry) (backend.Backend, backend.Backend, *compare.Comparer, error) {
	ids := idmap.New(ctl)
	if err := ids.Refresh(ctx); err != nil {
		return nil, nil, nil, fmt.Errorf("FHIRFACADE_CONTROL_DSN: %w", err)
	}
	go ids.Run(ctx, time.Second)
	// tombstones around both sides (outside the id map: they are keyed by
	// public ids, the same on both): a resource deleted through the facade
	// answers 410 on either route, and keeps doing so after its type moves;
	// the outbox mirror writes around them (see tombstone.Bare)
	legacyB := &tombstone.Backend{Inner: &idmap.Backend{Inner: legacy.New(db, reg), Map: ids, Reg: reg}, Store: ctl}
	if fhir == nil {
		return legacyB, nil, nil, nil
	}
	fhirB := &tombstone.Backend{Inner: fhir, Store: ctl}
	return legacyB, fhirB, compare.NewComparer(ctx, fhir, ctl, o.shadowRate, o.shadowWorkers, log, metrics), nil
}

// facadeConfig adds the settings that come straight from the options to
// the parts serve built.
func (o *serveOpts) facadeConfig(c facade.Config) facade.Config {
	c.DefaultCount = o.pageSize
	c.Version = version
	c.AdminAccess = o.adminAccess
	c.AuditFailOpen = o.auditFailOpen
	c.AuditAsync = o.auditMode == "async"
	c.RateLimit, c.RateBurst = o.rateLimit, o.rateBurst
	c.BaseURL, c.AllowedHosts, c.TrustedProxies = o.addr.base, o.addr.hosts, o.addr.proxies
	return c
}
