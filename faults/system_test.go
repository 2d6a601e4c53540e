package faults

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/idsync/idsync/faults/internal/load"
	"github.com/idsync/idsync/faults/internal/natsd"
	"github.com/idsync/idsync/faults/internal/proc"
	"github.com/idsync/idsync/faults/internal/world"
)

// The gateway's inbound secrets in every scenario.
const (
	oktaSecret    = "faults-okta-hook-secret-0123456789"
	consoleSecret = "faults-console-webhook-secret-0123456789"
)

// syncServices are the sync consumers, each its own service and durable.
var syncServices = []string{"okta-sync", "gitlab-sync", "github-sync", "console-sync"}

// options shape a scenario's system.
type options struct {
	items int
	// nodes is the number of NATS servers: 1 standalone, 3 a cluster with
	// R3 streams.
	nodes int
	nats  natsd.Options
	// env goes to every service, consumer to the sync consumers.
	env, consumer map[string]string
	// eventlogDSN: empty is SQLite in the event log's data directory.
	eventlogDSN string
	// batch is the most Okta events per delivery; pad adds that many bytes
	// to each Okta event (Okta sends fields idsync does not read).
	batch, pad int
	// latency delays every provider call from the start.
	latency time.Duration
	// provision runs the deploy-time provision step before the services,
	// which then run with IDSYNC_NATS_MANAGE_TOPOLOGY=false: the
	// production shape on a cluster (README, Running in production).
	provision bool
}

// system is one scenario's whole installation.
type system struct {
	t     *testing.T
	opts  options
	dir   string
	world *world.World
	nats  []*natsd.Server

	gwPort    int
	gateway   *proc.Proc
	consumers map[string][]*proc.Proc
	eventlog  *proc.Proc
	elAddr    string
	runs      map[string]int

	deliveries []load.Delivery
	sender     *load.Sender
	nc         *nats.Conn
	js         jetstream.JetStream

	started time.Time
	// quiet is when the last fault ended (or the load, if later): the
	// start of the convergence time.
	quiet  time.Time
	faults []string
	notes  []string
	// probes are deliveries sent outside the sender; extraAcked their
	// event ids answered 2xx.
	probes     []load.Delivery
	extraAcked []string
	// replayed counts the dead letters an operator replayed.
	replayed int
}

// newSystem seeds the world, starts NATS and prepares the load; the
// services are started by the scenario (startAll).
func newSystem(t *testing.T, o options) *system {
	t.Helper()
	if o.batch == 0 {
		o.batch = 1
	}
	s := &system{t: t, opts: o, dir: t.TempDir(), consumers: map[string][]*proc.Proc{}, runs: map[string]int{}, started: time.Now()}
	s.world = world.New(t, s.dir, world.Mix("", o.items))
	for _, f := range s.world.Faults() {
		f.SetLatency(o.latency)
	}
	if o.nodes >= 3 {
		s.nats = natsd.Cluster(t, bins["nats-server"], s.dir, o.nodes, o.nats)
	} else {
		s.nats = []*natsd.Server{natsd.Standalone(t, bins["nats-server"], s.dir, o.nats)}
	}
	port, err := proc.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	s.gwPort = port
	s.deliveries, err = load.Deliveries(s.world.Items, o.batch, o.pad, load.Secrets{Okta: oktaSecret, Console: consoleSecret})
	if err != nil {
		t.Fatal(err)
	}
	s.sender = load.NewSender("http://127.0.0.1:" + strconv.Itoa(port))
	s.nc, err = nats.Connect(s.natsURL(), nats.MaxReconnects(-1), nats.RetryOnFailedConnect(true), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.nc.Close)
	s.js, err = jetstream.New(s.nc)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// natsURL is IDSYNC_NATS_URL: every server of the system.
func (s *system) natsURL() string { return natsd.URLs(s.nats) }

// fault records an injected fault for the summary.
func (s *system) fault(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.faults = append(s.faults, msg)
	s.t.Logf("%s  fault: %s", time.Since(s.started).Round(time.Millisecond), msg)
}

// note records a figure for the summary.
func (s *system) note(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.notes = append(s.notes, msg)
	s.t.Logf("%s  %s", time.Since(s.started).Round(time.Millisecond), msg)
}

// env is what every service gets; children inherit nothing else.
func (s *system) env(extra ...map[string]string) map[string]string {
	replicas := "1"
	if len(s.nats) >= 3 {
		replicas = "3"
	}
	env := map[string]string{
		"PATH": os.Getenv("PATH"), "HOME": s.dir,
		"IDSYNC_NATS_URL": s.natsURL(), "IDSYNC_STREAM_REPLICAS": replicas,
		"IDSYNC_HTTP_ADDR": "127.0.0.1:0", "IDSYNC_LOG_LEVEL": "info",
	}
	for _, m := range append([]map[string]string{s.opts.env}, extra...) {
		for k, v := range m {
			env[k] = v
		}
	}
	return env
}
