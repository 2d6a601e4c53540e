package gateway

import (
	"bytes"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/idsync/idsync/pkg/httpserver"
	"github.com/idsync/idsync/pkg/logging"
)

// writeResult writes what httpserver.WriteJSON wrote for a result.
func TestWriteResultIsWriteJSON(t *testing.T) {
	t.Parallel()
	for _, res := range []result{{}, {Published: 1}, {Published: 20, Duplicates: 3, Ignored: 7}, {Duplicates: -1, Ignored: 1 << 40}} {
		got, want := httptest.NewRecorder(), httptest.NewRecorder()
		if err := writeResult(got, res); err != nil {
			t.Fatal(err)
		}
		if err := httpserver.WriteJSON(want, 200, res); err != nil {
			t.Fatal(err)
		}
		if got.Code != want.Code || got.Body.String() != want.Body.String() {
			t.Errorf("%+v: %d %s, want %d %s", res, got.Code, got.Body, want.Code, want.Body)
		}
		for _, h := range []string{"Content-Type", "Cache-Control"} {
			if got.Header().Get(h) != want.Header().Get(h) {
				t.Errorf("%+v: %s %q, want %q", res, h, got.Header().Get(h), want.Header().Get(h))
			}
		}
	}
}

// requestLogger writes the lines base.With(request_id, route) wrote,
// whatever is added to it later.
func TestRequestLoggerIsWith(t *testing.T) {
	t.Parallel()
	noTime := func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}
	var got, want bytes.Buffer
	lazy := requestLogger(slog.New(slog.NewJSONHandler(&got, &slog.HandlerOptions{Level: slog.LevelInfo, ReplaceAttr: noTime})), "req-1", "/okta/events")
	with := slog.New(slog.NewJSONHandler(&want, &slog.HandlerOptions{Level: slog.LevelInfo, ReplaceAttr: noTime})).
		With(logging.KeyRequestID, "req-1", "route", "/okta/events")
	for _, l := range []*slog.Logger{lazy, with} {
		l.Debug("dropped", "k", 1)
		l.Info("request rejected", "code", "invalid_json", "status", 400)
		l.With("a", 1).Error("with", "b", 2)
		l.WithGroup("g").Warn("group", "c", 3)
		l.With("a", 1).WithGroup("g").With("d", 4).Info("both", "e", 5)
	}
	if got.String() != want.String() {
		t.Errorf("lazy logger wrote\n%s\nWith wrote\n%s", got.String(), want.String())
	}
}
