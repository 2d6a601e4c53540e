package exporter_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace/noop"

	"github.com/idsync/idsync/pkg/tracing/exporter"
)

func TestSetup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		env       map[string]string
		exporting bool
		wantErr   string
	}{
		{name: "no endpoint: off", env: map[string]string{"OTEL_SERVICE_NAME": "x", "OTEL_TRACES_SAMPLER": "always_on"}},
		{name: "disabled", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_SDK_DISABLED": "true"}},
		{name: "exporter none", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_TRACES_EXPORTER": "none"}},
		{name: "base endpoint", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"}, exporting: true},
		{name: "traces endpoint and ratio", env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:1/v1/traces",
			"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "1"}, exporting: true},
		{name: "unknown sampler", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_TRACES_SAMPLER": "sometimes"}, wantErr: "OTEL_TRACES_SAMPLER"},
		{name: "bad ratio", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "2"}, wantErr: "OTEL_TRACES_SAMPLER_ARG"},
		{name: "other exporter", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_TRACES_EXPORTER": "zipkin"}, wantErr: "OTEL_TRACES_EXPORTER"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := exporter.Setup(context.Background(), func(k string) string { return tc.env[k] }, "test")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Exporting() != tc.exporting {
				t.Fatalf("exporting = %v, want %v", p.Exporting(), tc.exporting)
			}
			if _, isNoop := p.TracerProvider.(noop.TracerProvider); isNoop == tc.exporting {
				t.Fatalf("provider %T with exporting %v", p.TracerProvider, tc.exporting)
			}
			// Off: spans are not recorded (nothing to export).
			_, span := p.Tracer("t").Start(context.Background(), "s")
			if span.IsRecording() != tc.exporting {
				t.Errorf("span recording = %v", span.IsRecording())
			}
			span.End()
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			_ = p.Shutdown(ctx) // the endpoint is unreachable; Shutdown must still return
		})
	}
}
