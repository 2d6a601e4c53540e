package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/idsync/idsync/pkg/bus/bustest"
	"github.com/idsync/idsync/pkg/testdata"
)

// The full in-process path of one delivery: auth, bounded read, strict JSON,
// schema validation, mapping, encoding and a JetStream publish acknowledged
// by an embedded file-store server. Every iteration is a new event, so none
// is absorbed by dedupe. Run with `make bench`.

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
