package oktabackfill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/httpserver"
	"github.com/idsync/idsync/pkg/known"
	"github.com/idsync/idsync/pkg/lock"
	"github.com/idsync/idsync/pkg/logging"
	"github.com/idsync/idsync/pkg/metrics"
	"github.com/idsync/idsync/pkg/okta"
	"github.com/idsync/idsync/pkg/oktahook"
	"github.com/idsync/idsync/pkg/oktalog"
	"github.com/idsync/idsync/pkg/service"
)

// Run is the okta-backfill service as its own process: it connects to NATS,
// serves /healthz, /readyz and /metrics on IDSYNC_HTTP_ADDR, and reads the
// System Log whenever it holds the backfill's lease, until ctx ends; then
// it releases the lease and drains the connection.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg Config
	if _, err := config.Load(&cfg, Name, args, getenv, stderr); err != nil {
		return err
	}
	if err := errors.Join(cfg.Validate(), cfg.NATS.Validate(true)); err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	level, _ := logging.ParseLevel(cfg.LogLevel)
	log := logging.New(stderr, level, Name)
	log.LogAttrs(ctx, slog.LevelInfo, "starting", cfg.LogAttrs()...)
	reg := metrics.NewRegistry()
	conn, err := bus.Connect(cfg.NATS, Name, log, reg)
	if err != nil {
		return err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), cfg.HTTP.ShutdownTimeout)
		defer cancel()
		conn.Drain(dctx)
	}()
	ns := events.Namespace(cfg.Namespace)
	if cfg.ManageTopology {
		// The backfill may start before the gateway: make the stream it
		// publishes to (readiness waits for it; a poll before it exists
		// fails and is retried).
		go func() { _ = bus.WaitStreams(ctx, conn, ns, cfg.Streams, log) }()
	}
	bf, err := Start(ctx, Params{
		Okta: cfg.Okta, Backfill: cfg.Backfill, Routing: cfg.Publish.Routing(), RawMax: int(cfg.Publish.RawMaxBytes),
		PublishTimeout: cfg.Publish.PublishTimeout, NS: ns, Replicas: cfg.Streams.Replicas,
		Conn: conn, Log: log, Reg: reg,
	})
	if err != nil {
		return err
	}
	err = service.Serve(ctx, service.Process{
		HTTP: cfg.HTTP, Conn: conn, Reg: reg, Log: log,
		Checks: map[string]httpserver.Check{"streams": func(ctx context.Context) error {
			_, err := conn.JS.Stream(ctx, ns.Stream(bus.StreamEvents))
			return err
		}},
	}, bf.Run)
	log.Info("stopped")
	return err
}

// Params are what the backfill needs on an open connection.
type Params struct {
	Okta     okta.Config
	Backfill oktalog.Config
	Routing  oktahook.Routing
	RawMax   int
	// PublishTimeout bounds each publish's wait for JetStream's ack.
	PublishTimeout time.Duration
	NS             events.Namespace
	// Replicas of the KV buckets (the streams' IDSYNC_STREAM_REPLICAS).
	Replicas int
	Conn     *bus.Conn
	// Transport is the HTTP transport under the Okta client (nil: the
	// default); the demo's fakes need none.
	Transport http.RoundTripper
	Log       *slog.Logger
	Reg       prometheus.Registerer
}

// eventlogTimeout bounds one question to the event log.
const eventlogTimeout = 5 * time.Second

// Start wires the backfill: the Okta client (paced from Okta's rate-limit
// headers), the cursor bucket, the lease bucket, the publisher and the
// event log's index. The all-in-one calls it too.
func Start(ctx context.Context, p Params) (*oktalog.Backfill, error) {
	client, err := okta.New(p.Okta, p.Transport, p.Reg, okta.Scopes("okta.logs.read"))
	if err != nil {
		return nil, err
	}
	cursors, err := bus.KeyValue(ctx, p.Conn.JS, p.NS, bus.BucketOktaBackfill, p.Replicas)
	if err != nil {
		return nil, err
	}
	locks, err := bus.KeyValue(ctx, p.Conn.JS, p.NS, bus.BucketLocks, p.Replicas)
	if err != nil {
		return nil, err
	}
	locker, err := lock.Open(ctx, locks)
	if err != nil {
		return nil, err
	}
	return oktalog.New(oktalog.Options{
		Config: p.Backfill, Routing: p.Routing, RawMax: p.RawMax, OrgURL: p.Okta.OrgURL,
		Source:    client,
		Index:     known.NewClient(p.Conn.NC, p.NS, eventlogTimeout),
		Publisher: bus.NewPublisher(p.Conn, p.NS.Stream(bus.StreamEvents), p.PublishTimeout, p.Reg),
		NS:        p.NS, JS: p.Conn.JS, Cursors: cursors, Locker: locker,
		Log: p.Log.With("component", Name), Reg: p.Reg,
	})
}
