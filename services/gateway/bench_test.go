package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/bus/bustest"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/oktahook"
	"github.com/idsync/idsync/pkg/testdata"
)

// The full in-process path of one delivery: auth, bounded read, strict JSON,
// schema validation, mapping, encoding and a JetStream publish acknowledged
// by an embedded file-store server. Every iteration is a new event, so none
// is absorbed by dedupe. Run with `make bench`.
//
// Besides ns/op (wall time, which other work on the machine stretches),
// each benchmark reports cpu-ns/op: the process's CPU time per iteration
// (every thread, the garbage collector's included; for the full path also
// the embedded NATS server's and the request building's).

// reportCPU reports cpu-ns/op over the benchmark's timed iterations; call
// it after b.ResetTimer (or before b.Loop) and defer the function it returns.
func reportCPU(b *testing.B) func() {
	start, ok := processCPU()
	return func() {
		if end, ok2 := processCPU(); ok && ok2 && b.N > 0 {
			b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
		}
	}
}

func benchHarness(b *testing.B) *harness {
	srv := bustest.Start(b, bustest.WithMaxStore(4<<30))
	harnessStreamBytes = 1 << 30
	cfg := testHookConfig()
	cfg.MaxBodyBytes = 1 << 20
	return newHarness(b, bustest.Target{URL: srv.URL(), NS: bustest.Namespace(b)}, cfg)
}

func benchServe(b *testing.B, h *harness, path string, header func(body []byte) http.Header, body func(i int64) []byte) {
	handler := h.srv.Config.Handler
	var n atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	defer reportCPU(b)()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			bd := body(n.Add(1))
			req := httptest.NewRequest("POST", path, bytes.NewReader(bd))
			req.Header = header(bd)
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req)
			if rec.Code != 200 {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
}

func BenchmarkOktaSingleEvent(b *testing.B) {
	h := benchHarness(b)
	benchServe(b, h, "/okta/events", func([]byte) http.Header { return oktaAuth(oktaSecret) }, func(i int64) []byte {
		return oktaBatch(logEvent(fmt.Sprintf("bench-%d", i), "user.lifecycle.create", "00ubench"))
	})
}

func BenchmarkOktaBatchOf20(b *testing.B) {
	h := benchHarness(b)
	benchServe(b, h, "/okta/events", func([]byte) http.Header { return oktaAuth(oktaSecret) }, func(i int64) []byte {
		evs := make([]map[string]any, 20)
		for j := range evs {
			evs[j] = logEvent(fmt.Sprintf("bench-%d-%d", i, j), "user.lifecycle.create", "00ubench")
		}
		return oktaBatch(evs...)
	})
}

func BenchmarkConsoleEvents(b *testing.B) {
	for _, name := range testdata.ConsoleEventNames() {
		b.Run(name, func(b *testing.B) {
			h := benchHarness(b)
			// A new timestamp makes a new event (the dedupe id hashes it).
			var doc map[string]any
			if err := json.Unmarshal(testdata.Console(name), &doc); err != nil {
				b.Fatal(err)
			}
			delete(doc, "eventTimestamp")
			rest, _ := json.Marshal(doc)
			benchServe(b, h, "/console/events", func(body []byte) http.Header { return consoleSigned(body, consoleSecret) }, func(i int64) []byte {
				return append([]byte(fmt.Sprintf(`{"eventTimestamp":%d,`, i)), rest[1:]...)
			})
		})
	}
}

// BenchmarkOktaSingleEventCompute is the work the gateway must do for the
// single-event delivery beyond what a relay does (read the body, publish
// it, answer): strict decoding, schema validation, mapping and encoding
// the event with its CloudEvents headers — no HTTP, no NATS. With -cpu 1
// the garbage collector's work is inside ns/op: it is the CPU floor of the
// gateway's own processing (BENCHMARKS.md, "Gateway profile").
func BenchmarkOktaSingleEventCompute(b *testing.B) {
	cfg := testHookConfig()
	p, err := oktahook.NewParser(int(cfg.RawMaxBytes))
	if err != nil {
		b.Fatal(err)
	}
	cat, ns := events.Default(), events.DefaultNamespace
	routing := oktahook.Routing{}
	bodies := make([][]byte, 1024)
	for i := range bodies {
		bodies[i] = oktaBatch(logEvent(fmt.Sprintf("bench-%d", i), "user.lifecycle.create", "00ubench"))
	}
	meta := oktahook.Meta{Channel: oktahook.ChannelEventHook, Route: "/okta/events", ReceivedAt: time.Now()}
	b.ReportAllocs()
	defer reportCPU(b)()
	i := 0
	for b.Loop() {
		d, err := p.ParseEventHook(bodies[i%len(bodies)])
		i++
		if err != nil {
			b.Fatal(err)
		}
		for j := range d.Events {
			t, ok := routing.Route(cat, d.Events[j].EventType)
			if !ok {
				b.Fatal("not routed")
			}
			ev, err := oktahook.Event(t, &d.Events[j], meta, int(cfg.RawMaxBytes))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := events.Encode(ns, ev); err != nil {
				b.Fatal(err)
			}
		}
	}
}
