package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/bus/bustest"
	"github.com/idsync/idsync/services/gateway"
)

// served is the gateway as its main runs it: gateway.Run, so the production
// http.Server (ReadHeaderTimeout, ReadTimeout, MaxHeaderBytes) and the body
// limit apply, on a real loopback listener, publishing to an in-process
// JetStream.
type served struct {
	t      testing.TB
	addr   string // host:port the gateway listens on
	stream jetstream.Stream
	logs   *syncBuffer
}

// servedEnv is the configuration serveGateway starts from.
func servedEnv(natsURL, ns string) map[string]string {
	return map[string]string{
		"IDSYNC_NATS_URL": natsURL, "IDSYNC_NAMESPACE": ns, "IDSYNC_HTTP_ADDR": "127.0.0.1:0",
		"IDSYNC_STREAM_MAX_BYTES":       "8MiB",
		"IDSYNC_OKTA_HOOK_SECRET":       oktaSecret + "," + oktaNext,
		"IDSYNC_CONSOLE_WEBHOOK_SECRET": consoleSecret + "," + consoleNext,
		"IDSYNC_ALLOWED_EMAIL_DOMAINS":  "example.com",
		"IDSYNC_MAX_BODY_BYTES":         "64KiB",
		"IDSYNC_RAW_PAYLOAD_MAX_BYTES":  "16KiB",
		"IDSYNC_SHUTDOWN_TIMEOUT":       "5s",
	}
}

// serveGateway runs gateway.Run with env over servedEnv's values and waits
// until it is ready. When the test ends it cancels Run and fails the test
// unless Run returns nil (a clean shutdown) in time.
func serveGateway(t testing.TB, env map[string]string) *served {
	t.Helper()
	srv := bustest.Start(t)
	ns := bustest.Namespace(t)
	cfg := servedEnv(srv.URL(), string(ns))
	maps.Copy(cfg, env)
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- gateway.Run(ctx, nil, func(k string) string { return cfg[k] }, io.Discard, logs) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("gateway.Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("gateway.Run did not return after cancellation")
		}
	})

	s := &served{t: t, logs: logs}
	deadline := time.Now().Add(20 * time.Second)
	for s.addr == "" || !s.ready() {
		select {
		case err := <-done:
			t.Fatalf("gateway.Run returned %v\n%s", err, logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("gateway not ready (listening on %q)\n%s", s.addr, logs)
		}
		if s.addr == "" {
			s.addr = listenAddr(logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	nc, err := nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	if s.stream, err = js.Stream(sctx, ns.Stream(bus.StreamEvents)); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *served) url(path string) string { return "http://" + s.addr + path }

func (s *served) ready() bool {
	if s.addr == "" {
		return false
	}
	resp, err := http.Get(s.url("/readyz"))
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// lastSeq is the events stream's last sequence number.
func (s *served) lastSeq() uint64 {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	info, err := s.stream.Info(ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	return info.State.LastSeq
}

// do sends one request with net/http's client on a new connection.
func (s *served) do(method, path string, header http.Header, body []byte) reply {
	s.t.Helper()
	req, err := http.NewRequest(method, s.url(path), bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header = header.Clone()
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// listenAddr finds the address in the gateway's "listening" log line.
func listenAddr(logs string) string {
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line struct{ Msg, Addr string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
			return line.Addr
		}
	}
	return ""
}

// syncBuffer collects the gateway's log output across goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
