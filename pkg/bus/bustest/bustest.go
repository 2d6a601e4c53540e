// Package bustest runs NATS JetStream for tests: an in-process server on a
// random port with its store in the test's temporary directory, and, when it
// is reachable, the machine's own NATS server (IDSYNC_TEST_NATS_URL, default
// nats://127.0.0.1:4222). Each test gets its own namespace, so streams and
// subjects never collide, and deletes its streams when it ends.
package bustest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/idsync/idsync/pkg/events"
)

// Server is an in-process nats-server with JetStream.
type Server struct {
	t    testing.TB
	opts server.Options
	mu   sync.Mutex
	srv  *server.Server
}

// Option adjusts the server options before start.
type Option func(*server.Options)

// WithMaxStore limits JetStream file storage (to test a full store).
func WithMaxStore(bytes int64) Option {
	return func(o *server.Options) { o.JetStreamMaxStore = bytes }
}

// Start runs a JetStream server on a random loopback port with its store in
// t.TempDir(); it is shut down when the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{t: t, opts: server.Options{
		ServerName: "bustest",
		Host:       "127.0.0.1",
		Port:       server.RANDOM_PORT,
		NoLog:      true,
		NoSigs:     true,
		JetStream:  true,
		StoreDir:   t.TempDir(),
		// Small limits keep parallel tests light.
		JetStreamMaxMemory: 64 << 20,
		JetStreamMaxStore:  1 << 30,
	}}
	for _, o := range opts {
		o(&s.opts)
	}
	s.start()
	t.Cleanup(s.Shutdown)
	return s
}

func (s *Server) start() {
	s.t.Helper()
	opts := s.opts
	srv, err := server.NewServer(&opts)
	if err != nil {
		s.t.Fatalf("bustest: new server: %v", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		s.t.Fatalf("bustest: server not ready")
	}
	// Restart must come back on the same port: clients reconnect to it.
	if s.opts.Port == server.RANDOM_PORT {
		s.opts.Port = srv.Addr().(*net.TCPAddr).Port
	}
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
}

// URL is the client URL.
func (s *Server) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", s.opts.Port) }

// NATS returns the running server (nil while shut down).
func (s *Server) NATS() *server.Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.srv
}

// Shutdown stops the server and waits for it; the store is kept.
func (s *Server) Shutdown() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		srv.Shutdown()
		srv.WaitForShutdown()
	}
}

// Restart starts the server again on the same port with the same store.
func (s *Server) Restart() {
	s.t.Helper()
	s.Shutdown()
	s.start()
}

// Target is a NATS server a test runs against, with the test's namespace.
type Target struct {
	Name string
	URL  string
	// Embedded is the in-process server, nil for the machine's server.
	Embedded *Server
	NS       events.Namespace
	// Version is the server's version, e.g. 2.15.2.
	Version string
}

// SupportsMultiFilter reports whether the server takes several filter
// subjects on one consumer (NATS 2.10+).
func (tg Target) SupportsMultiFilter() bool {
	var major, minor int
	_, _ = fmt.Sscanf(tg.Version, "%d.%d", &major, &minor)
	return major > 2 || (major == 2 && minor >= 10)
}

// Namespace returns a namespace unique to this test run.
func Namespace(t testing.TB) events.Namespace {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return events.Namespace("t" + hex.EncodeToString(b))
}

// ExternalURL is the machine's NATS the integration tests also use.
func ExternalURL() string {
	if u := os.Getenv("IDSYNC_TEST_NATS_URL"); u != "" {
		return u
	}
	return "nats://127.0.0.1:4222"
}

// Each runs fn as the subtest "embedded" against a fresh in-process server,
// then as "external" against the machine's NATS; when that server is not
// reachable (or IDSYNC_TEST_NATS_URL=off) the external subtest is skipped
// with a message saying so.
func Each(t *testing.T, fn func(t *testing.T, tg Target)) {
	t.Helper()
	t.Run("embedded", func(t *testing.T) {
		s := Start(t)
		tg := Target{Name: "embedded", URL: s.URL(), Embedded: s, NS: Namespace(t)}
		tg.Version = serverVersion(t, tg.URL)
		fn(t, tg)
	})
	t.Run("external", func(t *testing.T) {
		url := ExternalURL()
		if url == "off" {
			t.Skip("external NATS disabled by IDSYNC_TEST_NATS_URL=off")
		}
		version, err := probe(url)
		if err != nil {
			t.Skipf("external NATS at %s not usable (%v); the embedded run covers this test", url, err)
		}
		tg := Target{Name: "external", URL: url, NS: Namespace(t), Version: version}
		CleanupNamespace(t, url, tg.NS)
		fn(t, tg)
	})
}

func serverVersion(t testing.TB, url string) string {
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatalf("bustest: connect %s: %v", url, err)
	}
	defer nc.Close()
	return nc.ConnectedServerVersion()
}

// probe checks that url answers and has JetStream, quickly.
func probe(url string) (string, error) {
	nc, err := nats.Connect(url, nats.Timeout(time.Second))
	if err != nil {
		return "", err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := js.AccountInfo(ctx); err != nil {
		return "", fmt.Errorf("jetstream: %w", err)
	}
	return nc.ConnectedServerVersion(), nil
}

// CleanupNamespace deletes every stream of ns on url when the test ends.
func CleanupNamespace(t testing.TB, url string, ns events.Namespace) {
	t.Cleanup(func() {
		nc, err := nats.Connect(url, nats.Timeout(2*time.Second))
		if err != nil {
			t.Logf("bustest: cleanup of %s: %v", ns, err)
			return
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		prefix := ns.Stream("")
		names := js.StreamNames(ctx)
		var doomed []string
		for name := range names.Name() {
			// KV buckets live in streams named KV_<bucket>.
			if strings.HasPrefix(name, prefix) || strings.HasPrefix(name, "KV_"+prefix) {
				doomed = append(doomed, name)
			}
		}
		for _, name := range doomed {
			if err := js.DeleteStream(ctx, name); err != nil {
				t.Logf("bustest: delete stream %s: %v", name, err)
			}
		}
	})
}
