// Package bus is idsync's NATS JetStream runtime: the connection, the
// topology (streams and durable consumers, declared in code and created or
// updated at start), the publisher the gateway uses, and the consumer runtime
// every sync service and the event log run their handlers in.
package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/logging"
	"github.com/idsync/idsync/pkg/metrics"
)

// ConnConfig says how to reach NATS. Exactly one of CredsFile, NKeySeedFile
// or User/Password may be set; TLS is used for tls:// URLs or when a CA or
// client certificate is given.
type ConnConfig struct {
	URL          string        `env:"IDSYNC_NATS_URL" help:"NATS server URL(s), comma-separated; empty in the all-in-one = embedded server"`
	CredsFile    string        `env:"IDSYNC_NATS_CREDS_FILE" help:"NATS user credentials file (JWT + nkey)"`
	NKeySeedFile string        `env:"IDSYNC_NATS_NKEY_FILE" help:"NATS nkey seed file"`
	User         string        `env:"IDSYNC_NATS_USER" help:"NATS user name"`
	Password     config.Secret `env:"IDSYNC_NATS_PASSWORD" help:"NATS password"`
	TLSCAFile    string        `env:"IDSYNC_NATS_TLS_CA_FILE" help:"CA bundle to verify the NATS server"`
	TLSCertFile  string        `env:"IDSYNC_NATS_TLS_CERT_FILE" help:"client certificate for NATS mutual TLS"`
	TLSKeyFile   string        `env:"IDSYNC_NATS_TLS_KEY_FILE" help:"client key for NATS mutual TLS"`
}

// Validate reports every configuration problem, one error each.
func (c ConnConfig) Validate(requireURL bool) error {
	var errs []error
	if requireURL && strings.TrimSpace(c.URL) == "" {
		errs = append(errs, errors.New("IDSYNC_NATS_URL: required (e.g. nats://nats:4222)"))
	}
	n := 0
	for _, set := range []bool{c.CredsFile != "", c.NKeySeedFile != "", c.User != ""} {
		if set {
			n++
		}
	}
	if n > 1 {
		errs = append(errs, errors.New("IDSYNC_NATS_CREDS_FILE, IDSYNC_NATS_NKEY_FILE and IDSYNC_NATS_USER are alternatives: set only one"))
	}
	if c.Password != "" && c.User == "" {
		errs = append(errs, errors.New("IDSYNC_NATS_PASSWORD: set IDSYNC_NATS_USER too"))
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		errs = append(errs, errors.New("IDSYNC_NATS_TLS_CERT_FILE and IDSYNC_NATS_TLS_KEY_FILE go together"))
	}
	for env, path := range map[string]string{
		"IDSYNC_NATS_CREDS_FILE": c.CredsFile, "IDSYNC_NATS_NKEY_FILE": c.NKeySeedFile,
		"IDSYNC_NATS_TLS_CA_FILE": c.TLSCAFile, "IDSYNC_NATS_TLS_CERT_FILE": c.TLSCertFile, "IDSYNC_NATS_TLS_KEY_FILE": c.TLSKeyFile,
	} {
		if path == "" {
			continue
		}
		if _, err := os.Stat(path); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", env, err))
		}
	}
	return errors.Join(errs...)
}

// Conn is a NATS connection with its JetStream context. It reconnects
// forever; Connected tells readiness whether it is up now.
type Conn struct {
	NC *nats.Conn
	JS jetstream.JetStream
}

// Connected reports whether the connection is currently established.
func (c *Conn) Connected() bool { return c.NC.IsConnected() }

// Ready is a readiness check: an error while the connection is down.
func (c *Conn) Ready(context.Context) error {
	if !c.Connected() {
		return errors.New("not connected")
	}
	return nil
}

// Drain lets in-flight subscriptions finish and closes the connection,
// waiting at most for ctx.
func (c *Conn) Drain(ctx context.Context) {
	closed := make(chan struct{})
	c.NC.SetClosedHandler(func(*nats.Conn) { close(closed) })
	if err := c.NC.Drain(); err != nil {
		c.NC.Close()
		return
	}
	select {
	case <-closed:
	case <-ctx.Done():
		c.NC.Close()
	}
}

// connMetrics are shared by every connection of a process, labelled by client name.
type connMetrics struct {
	connected  *prometheus.GaugeVec
	reconnects *prometheus.CounterVec
	asyncErrs  *prometheus.CounterVec
}

func newConnMetrics(reg prometheus.Registerer) *connMetrics {
	return &connMetrics{
		connected: metrics.Register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: metrics.Namespace, Subsystem: "bus", Name: "connected",
			Help: "1 while the NATS connection is established, 0 while it is reconnecting.",
		}, []string{"client"})),
		reconnects: metrics.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metrics.Namespace, Subsystem: "bus", Name: "reconnects_total",
			Help: "NATS reconnections.",
		}, []string{"client"})),
		asyncErrs: metrics.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metrics.Namespace, Subsystem: "bus", Name: "async_errors_total",
			Help: "Asynchronous NATS errors (permission violations, slow consumers).",
		}, []string{"client"})),
	}
}

// reconnectDelay backs off exponentially from 100ms to 5s with jitter, so a
// fleet of replicas does not reconnect in lockstep after a server restart.
func reconnectDelay(attempts int) time.Duration {
	d := 100 * time.Millisecond << min(attempts, 6)
	d = min(d, 5*time.Second)
	return d/2 + rand.N(d/2+1)
}

// waitRetry logs why a consumer is not running and waits reconnectDelay
// before its next attempt; it returns false once ctx has ended.
func waitRetry(ctx context.Context, log *slog.Logger, what string, err error, attempt int) bool {
	if ctx.Err() != nil {
		return false
	}
	delay := reconnectDelay(attempt)
	log.Warn(what+" unavailable, retrying", logging.Err(err), "retry_in", delay)
	select {
	case <-ctx.Done():
		return false
	case <-time.After(delay):
		return true
	}
}

// InboxPrefix is where a client gets its replies (JetStream API answers,
// publish acks, pulled messages, KV watches): _INBOX_<user> for a named
// NATS user, so that the server can let each user subscribe to its own
// replies only (deploy/nats/accounts.conf) — with the shared _INBOX, any
// user could read the messages pulled by another. Without a user (no
// auth, a credentials file, an nkey) it is NATS's default, _INBOX.
func InboxPrefix(user string) string {
	if user == "" {
		return strings.TrimSuffix(nats.InboxPrefix, ".")
	}
	return "_INBOX_" + user
}

// Connect dials NATS. The name identifies the client to the server and in
// metrics (e.g. "gateway"). It does not wait for the server: with the server
// down it returns a connection that keeps retrying, and Connected is false.
// extra options are appended (the all-in-one passes nats.InProcessServer).
func Connect(cfg ConnConfig, name string, log *slog.Logger, reg prometheus.Registerer, extra ...nats.Option) (*Conn, error) {
	m := newConnMetrics(reg)
	m.connected.WithLabelValues(name).Set(0)
	// Export the counters at 0 from the start, so rate() and alerts see
	// the first reconnect or error.
	m.reconnects.WithLabelValues(name)
	m.asyncErrs.WithLabelValues(name)
	log = log.With("client", name)
	opts := []nats.Option{
		nats.Name("idsync-" + name),
		nats.CustomInboxPrefix(InboxPrefix(cfg.User)),
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true),
		nats.CustomReconnectDelay(reconnectDelay),
		// No reconnect buffer: a publish while disconnected must fail at once
		// so the gateway answers 503, instead of being flushed after the
		// sender already gave up.
		nats.ReconnectBufSize(-1),
		nats.ConnectHandler(func(nc *nats.Conn) {
			m.connected.WithLabelValues(name).Set(1)
			log.Info("nats connected", "server", nc.ConnectedServerName(), "version", nc.ConnectedServerVersion())
		}),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			m.connected.WithLabelValues(name).Set(0)
			if err != nil {
				log.Warn("nats disconnected", slog.Any("error", err))
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			m.connected.WithLabelValues(name).Set(1)
			m.reconnects.WithLabelValues(name).Inc()
			log.Info("nats reconnected", "server", nc.ConnectedServerName())
		}),
		nats.ClosedHandler(func(*nats.Conn) { m.connected.WithLabelValues(name).Set(0) }),
		// A denied publish or subscribe surfaces only here; the call itself
		// just times out. Log it so permission bugs do not look like slowness.
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			m.asyncErrs.WithLabelValues(name).Inc()
			attrs := []any{slog.Any("error", err)}
			if sub != nil {
				attrs = append(attrs, "subscription", sub.Subject)
			}
			log.Error("nats async error", attrs...)
		}),
	}
	switch {
	case cfg.CredsFile != "":
		opts = append(opts, nats.UserCredentials(cfg.CredsFile))
	case cfg.NKeySeedFile != "":
		o, err := nats.NkeyOptionFromSeed(cfg.NKeySeedFile)
		if err != nil {
			return nil, fmt.Errorf("bus.Connect: IDSYNC_NATS_NKEY_FILE: %w", err)
		}
		opts = append(opts, o)
	case cfg.User != "":
		opts = append(opts, nats.UserInfo(cfg.User, cfg.Password.Reveal()))
	}
	if cfg.TLSCAFile != "" {
		opts = append(opts, nats.RootCAs(cfg.TLSCAFile))
	}
	if cfg.TLSCertFile != "" {
		opts = append(opts, nats.ClientCert(cfg.TLSCertFile, cfg.TLSKeyFile))
	}
	opts = append(opts, extra...)
	nc, err := nats.Connect(cfg.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("bus.Connect %s: %w", redactURL(cfg.URL), err)
	}
	if nc.IsConnected() {
		m.connected.WithLabelValues(name).Set(1)
	}
	// Async publishes (Okta batches) whose acknowledgement never comes are
	// failed after this long instead of being tracked forever.
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(30*time.Second))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("bus.Connect: jetstream: %w", err)
	}
	return &Conn{NC: nc, JS: js}, nil
}

// redactURL drops user info from NATS URLs before they reach an error or log.
func redactURL(u string) string {
	parts := strings.Split(u, ",")
	for i, p := range parts {
		if at := strings.LastIndex(p, "@"); at >= 0 {
			if scheme := strings.Index(p, "://"); scheme >= 0 && scheme < at {
				parts[i] = p[:scheme+3] + "[redacted]" + p[at:]
			} else {
				parts[i] = "[redacted]" + p[at:]
			}
		}
	}
	return strings.Join(parts, ",")
}
