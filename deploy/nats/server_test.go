package natsconf_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/logging"
)

// ns is the namespace accounts.conf is written for.
const ns = events.DefaultNamespace

// users are every user of accounts.conf but the system account's.
var users = []string{"provisioner", "gateway", "publisher", "okta-sync", "gitlab-sync", "github-sync", "console-sync", "eventlog", "operator", "okta-backfill"}

// providers are the sync consumers' providers.
var providers = []string{"okta", "gitlab", "github", "console"}

// passwordEnv is the environment variable accounts.conf reads a user's
// password from.
func passwordEnv(user string) string {
	return "IDSYNC_NATS_" + strings.ToUpper(strings.ReplaceAll(user, "-", "_")) + "_PASSWORD"
}

// setPasswords gives every user of accounts.conf a fresh password in the
// environment, the way a deployment supplies them.
func setPasswords(t *testing.T) map[string]string {
	t.Helper()
	pw := map[string]string{}
	for _, u := range append([]string{"sys"}, users...) {
		b := make([]byte, 18)
		_, _ = rand.Read(b)
		pw[u] = "p" + hex.EncodeToString(b)
		t.Setenv(passwordEnv(u), pw[u])
	}
	return pw
}

// streamConfig and settings are what the provisioner deploys with.
var (
	streamConfig = bus.StreamConfig{Replicas: 1, MaxAge: 720 * time.Hour, MaxBytes: 64 << 20, Duplicates: 24 * time.Hour, DLQMaxAge: 2160 * time.Hour}
	settings     = bus.Settings{
		Workers: 4, MaxAckPending: 64, AckWait: 5 * time.Second, MaxDeliver: 4,
		BackoffBase: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond,
		DrainTimeout: 5 * time.Second, LagInterval: time.Second,
	}
)

// eventlogSpecs are the event log's durables (services/eventlog/ingest.go).
func eventlogSpecs() []bus.ConsumerSpec {
	return []bus.ConsumerSpec{
		{Durable: "eventlog", Stream: bus.StreamEvents, FilterSubjects: []string{ns.Events()}},
		{Durable: "eventlog", Stream: bus.StreamOutcomes, FilterSubjects: []string{ns.Outcomes()}},
		{Durable: "eventlog", Stream: bus.StreamDLQ, FilterSubjects: []string{ns.DLQ()}},
	}
}

// harness is a server running the shipped configuration (node 1's file,
// clustering off) with the topology the provisioner deploys.
type harness struct {
	srv       *server.Server
	passwords map[string]string
	prov      *client
}

func start(t *testing.T) *harness {
	t.Helper()
	h := &harness{passwords: setPasswords(t)}
	opts, err := server.ProcessConfigFile("cluster/nats-1.conf")
	if err != nil {
		t.Fatal(err)
	}
	opts.Host, opts.Port, opts.HTTPPort = "127.0.0.1", server.RANDOM_PORT, 0
	opts.StoreDir = t.TempDir()
	opts.Cluster, opts.Routes = server.ClusterOpts{}, nil
	opts.NoSigs, opts.NoLog = true, true
	srv, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	h.srv = srv

	h.prov = h.connect(t, "provisioner")
	h.provision(t, h.prov)
	h.prov.noViolations(t)
	return h
}

// provision creates what the services then expect to find, with the code's
// own declarations: the streams, the KV buckets and every durable consumer.
func (h *harness) provision(t *testing.T, c *client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := bus.EnsureStreams(ctx, c.conn.JS, ns, streamConfig); err != nil {
		t.Fatal(err)
	}
	for _, b := range bus.Buckets {
		if _, err := bus.KeyValue(ctx, c.conn.JS, ns, b.Base, 1); err != nil {
			t.Fatal(err)
		}
	}
	specs := eventlogSpecs()
	for _, p := range providers {
		specs = append(specs, bus.SyncConsumer(ns, events.Default(), p))
	}
	for _, spec := range specs {
		if _, err := bus.EnsureConsumer(ctx, c.conn.JS, ns, spec, settings); err != nil {
			t.Fatal(err)
		}
	}
}

// client is one user's connection through bus.Connect (as the services
// connect), with the asynchronous errors it received.
type client struct {
	user string
	conn *bus.Conn
	errs chan error
}

func (h *harness) connect(t *testing.T, user string) *client {
	t.Helper()
	c := &client{user: user, errs: make(chan error, 1024)}
	record := nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		select {
		case c.errs <- err:
		default:
		}
	})
	cfg := bus.ConnConfig{URL: h.srv.ClientURL(), User: user, Password: config.Secret(h.passwords[user])}
	conn, err := bus.Connect(cfg, user, logging.Discard(), prometheus.NewRegistry(), record)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.NC.Close)
	for deadline := time.Now().Add(5 * time.Second); !conn.NC.IsConnected(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not connected: %v", user, conn.NC.LastError())
		}
	}
	c.conn = conn
	return c
}

// noViolations fails the test for every permissions violation c received:
// an allowed operation whose side traffic (a flow-control reply, a watcher's
// cleanup) was denied would otherwise pass unnoticed.
func (c *client) noViolations(t *testing.T) {
	t.Helper()
	if err := c.conn.NC.FlushTimeout(5 * time.Second); err != nil {
		t.Fatalf("%s: flush: %v", c.user, err)
	}
	for {
		select {
		case err := <-c.errs:
			if errors.Is(err, nats.ErrPermissionViolation) {
				t.Errorf("%s: denied while doing what the service does: %v", c.user, err)
			}
		case <-time.After(100 * time.Millisecond):
			return
		}
	}
}

// expectDenied waits for the server's permissions violation naming subject.
func (c *client) expectDenied(t *testing.T, op, subject string) {
	t.Helper()
	want := strings.ToLower(op + ` to "` + subject + `"`)
	deadline := time.After(3 * time.Second)
	for {
		select {
		case err := <-c.errs:
			if errors.Is(err, nats.ErrPermissionViolation) && strings.Contains(strings.ToLower(err.Error()), want) {
				return
			}
		case <-deadline:
			t.Errorf("%s: %s %s was not denied", c.user, op, subject)
			return
		}
	}
}

// denyPublish publishes to subject and expects the server to refuse it.
func (c *client) denyPublish(t *testing.T, subject string) {
	t.Helper()
	if err := c.conn.NC.Publish(subject, nil); err != nil {
		t.Fatalf("%s: publish %s: %v", c.user, subject, err)
	}
	if err := c.conn.NC.Flush(); err != nil {
		t.Fatalf("%s: flush: %v", c.user, err)
	}
	c.expectDenied(t, "publish", subject)
}

// denySubscribe subscribes to subject and expects the server to refuse it.
func (c *client) denySubscribe(t *testing.T, subject string) {
	t.Helper()
	sub, err := c.conn.NC.SubscribeSync(subject)
	if err != nil {
		t.Fatalf("%s: subscribe %s: %v", c.user, subject, err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := c.conn.NC.Flush(); err != nil {
		t.Fatalf("%s: flush: %v", c.user, err)
	}
	c.expectDenied(t, "subscription", subject)
}

// settled waits until durable on stream has nothing pending and nothing
// unacknowledged, read with the provisioner's rights.
func (h *harness) settled(t *testing.T, stream, durable string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		var info *jetstream.ConsumerInfo
		cons, err := h.prov.conn.JS.Consumer(ctx, ns.Stream(stream), durable)
		if err == nil {
			info, err = cons.Info(ctx)
		}
		if err == nil && info.NumPending == 0 && info.NumAckPending == 0 && info.AckFloor.Stream == info.Delivered.Stream {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s on %s did not settle: %+v %v", durable, stream, info, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
