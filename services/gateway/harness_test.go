package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/bus/bustest"
	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/consolehook"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/httpserver"
	"github.com/idsync/idsync/pkg/logging"
	"github.com/idsync/idsync/services/gateway"
)

const (
	oktaSecret     = "okta-secret-0123456789abcdef"
	oktaNext       = "okta-secret-next-0123456789abcdef"
	consoleSecret  = "console-secret-0123456789abcdef"
	consoleNext    = "console-secret-next-0123456789abcdef"
	testBodyLimit  = 64 << 10
	testRawMaxSize = 16 << 10
)

func testHookConfig() gateway.HookConfig {
	return gateway.HookConfig{
		OktaSecrets:    config.Secrets{oktaSecret, oktaNext},
		OktaAuthHeader: "Authorization",
		ConsoleSecrets: config.Secrets{consoleSecret, consoleNext},
		AllowedDomains: []string{"example.com", "*.mia-platform.eu"},
		MaxBodyBytes:   testBodyLimit,
		RawMaxBytes:    testRawMaxSize,
		PublishTimeout: 2 * time.Second,
		RetryAfter:     5 * time.Second,
		VerifyQueue:    100,
	}
}

// harnessStreamBytes bounds each harness stream; benchmarks raise it.
var harnessStreamBytes config.ByteSize = 8 << 20

// harness is a gateway on an httptest server publishing to a real JetStream.
type harness struct {
	t      testing.TB
	srv    *httptest.Server
	conn   *bus.Conn
	ns     events.Namespace
	gw     *gateway.Gateway
	stream jetstream.Stream
	reg    *prometheus.Registry
}

func newHarness(t testing.TB, tg bustest.Target, hook gateway.HookConfig) *harness {
	t.Helper()
	reg := prometheus.NewRegistry()
	conn, err := bus.Connect(bus.ConnConfig{URL: tg.URL}, "gateway-test", logging.Discard(), reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.NC.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	streams := bus.StreamConfig{Replicas: 1, MaxAge: time.Hour, MaxBytes: harnessStreamBytes, Duplicates: time.Hour, DLQMaxAge: time.Hour}
	if err := bus.EnsureStreams(ctx, conn.JS, tg.NS, streams); err != nil {
		t.Fatal(err)
	}
	pub := bus.NewPublisher(conn, tg.NS.Stream(bus.StreamEvents), hook.PublishTimeout, reg)
	gw, err := gateway.New(hook, tg.NS, pub, logging.Discard(), reg)
	if err != nil {
		t.Fatal(err)
	}
	gw.Start()
	health := httpserver.NewHealth(gateway.ReadinessChecks(conn, tg.NS))
	srv := httptest.NewServer(gw.Handler(health, promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		gw.Close(ctx)
	})
	stream, err := conn.JS.Stream(ctx, tg.NS.Stream(bus.StreamEvents))
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, srv: srv, conn: conn, ns: tg.NS, gw: gw, stream: stream, reg: reg}
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

// errorCode returns the error body's code, or "" for a non-error body.
func (r reply) errorCode() string {
	var b struct {
		Status int    `json:"status"`
		Code   string `json:"code"`
	}
	if json.Unmarshal(r.body, &b) != nil || b.Status == 0 {
		return ""
	}
	return b.Code
}

func (h *harness) do(method, path string, header http.Header, body []byte) reply {
	h.t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// lastSeq is the stream's last sequence number.
func (h *harness) lastSeq() uint64 {
	h.t.Helper()
	info, err := h.stream.Info(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return info.State.LastSeq
}

// since returns the messages stored after seq.
func (h *harness) since(seq uint64) []*jetstream.RawStreamMsg {
	h.t.Helper()
	last := h.lastSeq()
	var out []*jetstream.RawStreamMsg
	for s := seq + 1; s <= last; s++ {
		m, err := h.stream.GetMsg(context.Background(), s)
		if err != nil {
			h.t.Fatalf("get %d: %v", s, err)
		}
		out = append(out, m)
	}
	return out
}

// stored describes a message as "<ce-type> <ce-id> <ce-subject>".
func stored(msgs []*jetstream.RawStreamMsg) []string {
	out := make([]string, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, m.Header.Get(events.HeaderType)+" "+m.Header.Get(events.HeaderID)+" "+m.Header.Get(events.HeaderSubject))
	}
	return out
}

func oktaAuth(secret string) http.Header {
	return http.Header{"Authorization": {secret}, "Content-Type": {"application/json"}}
}

func consoleSigned(body []byte, secret string) http.Header {
	return http.Header{consolehook.HeaderSignature: {consolehook.Sign(body, secret)}, "Content-Type": {"application/json"}}
}

// mutate decodes a JSON object, applies f and re-encodes it.
func mutate(t *testing.T, body []byte, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func field(m map[string]any, path ...string) map[string]any {
	for _, p := range path {
		m = m[p].(map[string]any)
	}
	return m
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func eventsCatalog() *events.Catalog { return events.Default() }
