package provision

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/bus/bustest"
)

// TestProvisionCreatesTheTopology runs provision twice against a real
// JetStream server: the streams and buckets exist afterwards, with the
// replicas and names the services expect, and a second run changes nothing.
func TestProvisionCreatesTheTopology(t *testing.T) {
	t.Parallel()
	srv := bustest.Start(t)
	ns := bustest.Namespace(t)
	env := map[string]string{
		"IDSYNC_NATS_URL":                srv.URL(),
		"IDSYNC_NAMESPACE":               string(ns),
		"IDSYNC_STREAM_MAX_AGE":          "2h",
		"IDSYNC_STREAM_REPLICAS":         "1",
		"IDSYNC_STREAM_DUPLICATE_WINDOW": "1h",
		"IDSYNC_STREAM_MAX_BYTES":        "8MiB",
		"IDSYNC_LOG_LEVEL":               "warn",
		"IDSYNC_PROVISION_TIMEOUT":       "10s",
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	for range 2 {
		if err := Run(ctx, nil, func(k string) string { return env[k] }, tWriter{t}); err != nil {
			t.Fatalf("run: %v", err)
		}
	}
	nc, err := nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	for _, base := range []string{bus.StreamEvents, bus.StreamOutcomes, bus.StreamDLQ} {
		s, err := js.Stream(ctx, ns.Stream(base))
		if err != nil {
			t.Fatalf("stream %s: %v", ns.Stream(base), err)
		}
		if got := s.CachedInfo().Config.MaxAge; got != 2*time.Hour && base != bus.StreamDLQ {
			t.Errorf("%s MaxAge = %s, want 2h", ns.Stream(base), got)
		}
	}
	for _, b := range bus.Buckets {
		kv, err := js.KeyValue(ctx, ns.Stream(b.Base))
		if err != nil {
			t.Fatalf("bucket %s: %v", ns.Stream(b.Base), err)
		}
		st, err := kv.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.(*jetstream.KeyValueBucketStatus).StreamInfo().Config.Description; got != b.Description {
			t.Errorf("bucket %s description %q, want %q", b.Base, got, b.Description)
		}
	}
}

func TestProvisionRefusesBadConfiguration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no url", map[string]string{}, "IDSYNC_NATS_URL"},
		{"bad replicas", map[string]string{"IDSYNC_NATS_URL": "nats://127.0.0.1:1", "IDSYNC_STREAM_REPLICAS": "7"}, "IDSYNC_STREAM_REPLICAS"},
		{"bad namespace", map[string]string{"IDSYNC_NATS_URL": "nats://127.0.0.1:1", "IDSYNC_NAMESPACE": "a.b"}, "namespace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Run(t.Context(), nil, func(k string) string { return tt.env[k] }, io.Discard)
			if err == nil || !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(tt.want)) {
				t.Errorf("err = %v, want one naming %s", err, tt.want)
			}
		})
	}
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
