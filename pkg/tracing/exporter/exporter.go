// Package exporter sets up an idsync process's OpenTelemetry tracer
// provider from the standard OTEL_* variables: an OTLP/HTTP exporter when an
// endpoint is configured, a no-op provider (no exporter, no goroutine)
// otherwise. Only the process's entry point (pkg/service) imports it; the
// layers that make spans depend on the OpenTelemetry API alone (pkg/tracing).
package exporter

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Provider is a process's tracer provider and how to flush it on exit.
type Provider struct {
	trace.TracerProvider
	sdk *sdktrace.TracerProvider // nil: tracing is off
}

// Exporting reports whether spans are recorded and exported.
func (p *Provider) Exporting() bool { return p.sdk != nil }

// Shutdown exports the spans still buffered, waiting at most for ctx, and
// stops the exporter. It is a no-op when tracing is off.
func (p *Provider) Shutdown(ctx context.Context) error {
	if p.sdk == nil {
		return nil
	}
	return p.sdk.Shutdown(ctx)
}

// Setup builds the provider from the standard OpenTelemetry variables read
// through getenv. Tracing is on only when OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
// (used as is) or OTEL_EXPORTER_OTLP_ENDPOINT (+ "/v1/traces") is set, and
// OTEL_SDK_DISABLED is not "true" and OTEL_TRACES_EXPORTER is not "none";
// spans then go over OTLP/HTTP (protobuf) through a batching processor.
// service names the process unless OTEL_SERVICE_NAME does;
// OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG choose the sampler
// (default parentbased_always_on). The exporter reads its other settings
// (OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, _COMPRESSION, _CERTIFICATE, …)
// from the process environment itself.
func Setup(ctx context.Context, getenv func(string) string, service string) (*Provider, error) {
	endpoint := endpointURL(getenv)
	if endpoint == "" || strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") || getenv("OTEL_TRACES_EXPORTER") == "none" {
		return &Provider{TracerProvider: noop.NewTracerProvider()}, nil
	}
	if exp := getenv("OTEL_TRACES_EXPORTER"); exp != "" && exp != "otlp" {
		return nil, fmt.Errorf("OTEL_TRACES_EXPORTER: %q is not supported (otlp or none)", exp)
	}
	sampler, err := parseSampler(getenv("OTEL_TRACES_SAMPLER"), getenv("OTEL_TRACES_SAMPLER_ARG"))
	if err != nil {
		return nil, err
	}
	if name := getenv("OTEL_SERVICE_NAME"); name != "" {
		service = name
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
	if err != nil {
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT %s: %w", endpoint, err)
	}
	res := resource.NewSchemaless(attribute.String("service.name", service))
	sdk := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res), sdktrace.WithSampler(sampler))
	return &Provider{TracerProvider: sdk, sdk: sdk}, nil
}

func endpointURL(getenv func(string) string) string {
	if u := strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")); u != "" {
		return u
	}
	if u := strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_ENDPOINT")); u != "" {
		return strings.TrimRight(u, "/") + "/v1/traces"
	}
	return ""
}

// parseSampler reads OTEL_TRACES_SAMPLER and its argument (the ratio).
func parseSampler(name, arg string) (sdktrace.Sampler, error) {
	ratio := 1.0
	if arg != "" && strings.HasSuffix(name, "traceidratio") {
		r, err := strconv.ParseFloat(arg, 64)
		if err != nil || r < 0 || r > 1 {
			return nil, errors.New("OTEL_TRACES_SAMPLER_ARG: want a ratio between 0 and 1")
		}
		ratio = r
	}
	switch name {
	case "", "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "parentbased_traceidratio":
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio)), nil
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "traceidratio":
		return sdktrace.TraceIDRatioBased(ratio), nil
	}
	return nil, fmt.Errorf("OTEL_TRACES_SAMPLER: %q is not one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio", name)
}
