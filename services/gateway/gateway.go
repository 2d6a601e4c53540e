package gateway

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/consolehook"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/httpserver"
	"github.com/idsync/idsync/pkg/oktahook"
)

// Publisher stores messages on JetStream and returns once they are
// acknowledged; failures are *bus.PublishError.
type Publisher interface {
	PublishAll(ctx context.Context, msgs []*nats.Msg) ([]bus.Ack, error)
}

// Gateway holds the webhook handlers and what they share.
type Gateway struct {
	cfg     HookConfig
	ns      events.Namespace
	cat     *events.Catalog
	pub     Publisher
	okta    *oktahook.Parser
	routing oktahook.Routing
	console *consolehook.Parser
	verify  *asyncPublisher
	log     *slog.Logger
	m       *gatewayMetrics
	now     func() time.Time
}

// New builds the gateway. It validates nothing the configuration did not
// already check; it fails only if the embedded schemas do not compile.
func New(cfg HookConfig, ns events.Namespace, pub Publisher, log *slog.Logger, reg prometheus.Registerer) (*Gateway, error) {
	cat := events.Default()
	okta, err := oktahook.NewParser(int(cfg.RawMaxBytes))
	if err != nil {
		return nil, err
	}
	console, err := consolehook.NewParser(cat, int(cfg.RawMaxBytes))
	if err != nil {
		return nil, err
	}
	m := newGatewayMetrics(reg)
	return &Gateway{
		cfg: cfg, ns: ns, cat: cat, pub: pub, okta: okta, console: console,
		routing: oktahook.Routing{DeactivateDeletes: cfg.DeactivateDeletes, Forward: cfg.ForwardEventTypes},
		verify:  newAsyncPublisher(pub, ns, cfg.VerifyQueue, log, m),
		log:     log, m: m, now: time.Now,
	}, nil
}

// Mount adds the webhook routes to r (the all-in-one mounts the API next to them).
func (g *Gateway) Mount(r chi.Router) {
	for _, rt := range g.routes() {
		r.Method(rt.method, rt.path, g.serve(rt.method, rt.path, rt.handler))
	}
}

// Close publishes the queued okta.verify.email events, waiting at most for
// ctx; call it after the HTTP server has shut down.
func (g *Gateway) Close(ctx context.Context) { g.verify.close(ctx) }

// Start begins publishing queued okta.verify.email events in the background.
func (g *Gateway) Start() { g.verify.start() }

// Handler returns a router with the webhook routes, health and metrics, for
// the gateway running as its own service.
func (g *Gateway) Handler(health *httpserver.Health, metrics http.Handler) http.Handler {
	r := NewRouter(g.log)
	g.Mount(r)
	health.Mount(r)
	r.Method(http.MethodGet, "/metrics", metrics)
	return r
}
