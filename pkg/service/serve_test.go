package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/bus/bustest"
	"github.com/idsync/idsync/pkg/httpserver"
	"github.com/idsync/idsync/pkg/logging"
	"github.com/idsync/idsync/pkg/metrics"
	"github.com/idsync/idsync/pkg/service"
)

// logBuffer is a log sink safe across goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// addr waits for the "listening" line and returns its address.
func (l *logBuffer) addr(t *testing.T) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		l.mu.Lock()
		lines := strings.Split(l.b.String(), "\n")
		l.mu.Unlock()
		for _, line := range lines {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
				return rec.Addr
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("never listening")
	return ""
}

func status(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestServe(t *testing.T) {
	srv := bustest.Start(t)
	conn, err := bus.Connect(bus.ConnConfig{URL: srv.URL()}, "test", logging.Discard(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.NC.Close()
	httpCfg := httpserver.Config{Addr: "127.0.0.1:0", ReadHeaderTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second, IdleTimeout: time.Second, MaxHeaderBytes: 1 << 16, ShutdownTimeout: 5 * time.Second}
	var storeDown sync.Map

	cases := []struct {
		name string
		// work runs until ctx ends, or fails early.
		work    func(ctx context.Context) error
		cancel  bool
		wantErr bool
	}{
		{name: "runs until cancelled", work: func(ctx context.Context) error { <-ctx.Done(); return nil }, cancel: true},
		{name: "work stopping on its own ends the process", work: func(context.Context) error { return nil }, wantErr: true},
		{name: "work failing ends the process", work: func(context.Context) error { return errors.New("broken") }, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			logs := &logBuffer{}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			started := make(chan struct{})
			p := service.Process{
				HTTP: httpCfg, Conn: conn, Reg: metrics.NewRegistry(), Log: logging.New(logs, 0, "test"),
				Checks: map[string]httpserver.Check{"store": func(context.Context) error {
					if _, down := storeDown.Load(t.Name()); down {
						return errors.New("down")
					}
					return nil
				}},
				Mount: func(r chi.Router) {
					r.Get("/own", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
				},
			}
			done := make(chan error, 1)
			go func() {
				done <- service.Serve(ctx, p, func(ctx context.Context) error {
					close(started)
					return tc.work(ctx)
				})
			}()
			<-started
			if tc.cancel {
				base := "http://" + logs.addr(t)
				for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200, "/own": http.StatusTeapot} {
					if got := status(t, base+path); got != want {
						t.Errorf("%s: %d, want %d", path, got, want)
					}
				}
				// Readiness is cached for a second.
				storeDown.Store(t.Name(), true)
				deadline := time.Now().Add(5 * time.Second)
				for status(t, base+"/readyz") != http.StatusServiceUnavailable {
					if time.Now().After(deadline) {
						t.Fatal("/readyz stays 200 with a check failing")
					}
					time.Sleep(50 * time.Millisecond)
				}
				cancel()
			}
			select {
			case err := <-done:
				if (err != nil) != tc.wantErr {
					t.Fatalf("Serve: %v, want error %v", err, tc.wantErr)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("Serve did not return")
			}
		})
	}
}
