// Package eventlog is idsync's system of record: it writes every event,
// outcome, dead letter and alert on the bus to a store (PostgreSQL, or
// SQLite embedded), serves the events search API (GET /api/events) and the
// event-type catalog (GET /api/event-types), keeps records for the
// configured retention, and forgets a person on an erasure request.
package eventlog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/httpserver"
	"github.com/idsync/idsync/pkg/known"
	"github.com/idsync/idsync/pkg/logging"
	"github.com/idsync/idsync/pkg/metrics"
	"github.com/idsync/idsync/pkg/service"
	"github.com/idsync/idsync/services/eventlog/store"
)

// retentionInterval is how often the retention purge runs.
const retentionInterval = time.Hour

// Run is the eventlog service as its own process: it opens the store,
// connects to NATS, ingests until ctx ends and serves the API, health and
// metrics on IDSYNC_HTTP_ADDR; on shutdown the HTTP server finishes its
// requests, each consumer commits and acknowledges the batch in hand, the
// connection drains and the store closes.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg Config
	if _, err := config.Load(&cfg, "eventlog", args, getenv, stderr); err != nil {
		return err
	}
	if err := errors.Join(cfg.Validate(), cfg.NATS.Validate(true)); err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	level, _ := logging.ParseLevel(cfg.LogLevel)
	log := logging.New(stderr, level, "eventlog")
	reg := metrics.NewRegistry()

	st, desc, err := OpenStore(ctx, cfg.DSN.Reveal(), cfg.DataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	log.LogAttrs(ctx, slog.LevelInfo, "starting", append(cfg.Settings.LogAttrs(), slog.String("store", desc), slog.String("namespace", cfg.Namespace))...)

	conn, err := bus.Connect(cfg.NATS, "eventlog", log, reg)
	if err != nil {
		return err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), cfg.HTTP.ShutdownTimeout)
		defer cancel()
		conn.Drain(dctx)
	}()
	ns := events.Namespace(cfg.Namespace)
	svc, err := Start(cfg.Settings, st, conn, ns, log, reg)
	if err != nil {
		return err
	}
	if cfg.ManageTopology {
		// The event log may start before the gateway: make the streams it
		// consumes (its consumers retry until they exist either way).
		go func() { _ = bus.WaitStreams(ctx, conn, ns, cfg.Streams, log) }()
	}
	err = service.Serve(ctx, service.Process{
		HTTP: cfg.HTTP, Conn: conn, Checks: map[string]httpserver.Check{"store": st.Ping},
		Mount: svc.API.Mount, Reg: reg, Log: log,
	}, svc.Run)
	log.Info("stopped")
	return err
}

// Service is the event log on an open store and connection: the API to
// mount, and the ingest and retention to run. The all-in-one uses it too.
type Service struct {
	API       *API
	ingest    *Ingest
	store     store.Store
	conn      *bus.Conn
	ns        events.Namespace
	retention time.Duration
	log       *slog.Logger
	reg       prometheus.Registerer
}

// Start builds the event log's parts; Run runs them.
func Start(s Settings, st store.Store, conn *bus.Conn, ns events.Namespace, log *slog.Logger, reg prometheus.Registerer) (*Service, error) {
	users, err := ParseUsers(s.Users)
	if err != nil {
		return nil, err
	}
	if len(users) == 0 {
		log.Warn("IDSYNC_API_USERS is empty: GET /api/events answers 401 to everyone")
	}
	in, err := NewIngest(conn, ns, st, s.Batch(), log, reg)
	if err != nil {
		return nil, err
	}
	return &Service{API: NewAPI(st, users, ns, log), ingest: in, store: st, conn: conn, ns: ns, retention: s.Retention, log: log, reg: reg}, nil
}

// Run ingests, applies the retention and answers which event ids it holds
// (<ns>.eventlog.known, see pkg/known) until ctx ends; the batches in hand
// are committed and acknowledged before it returns.
func (s *Service) Run(ctx context.Context) error {
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	if s.retention > 0 {
		wg.Go(func() { Retain(rctx, s.store, s.retention, retentionInterval, s.log, s.reg) })
	}
	sub, err := known.Serve(s.conn.NC, s.ns, s.store.Known, knownTimeout, s.log)
	if err != nil {
		return err
	}
	defer func() { _ = sub.Unsubscribe() }()
	return s.ingest.Run(ctx)
}

// knownTimeout bounds one eventlog.known lookup (at most known.MaxIDs ids
// through the unique index on id: milliseconds).
const knownTimeout = 5 * time.Second
