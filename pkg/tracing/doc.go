// Package tracing holds the few helpers every layer of idsync uses to make
// OpenTelemetry spans, on the OpenTelemetry API only (the SDK and the OTLP
// exporter are set up once per process by package tracing/exporter): the
// process's tracer provider travels in the run context (so tests inject an
// in-memory one without touching globals), the W3C trace-context
// propagator carries traces across the bus, and Transport gives each
// provider call a client span. When tracing is off the provider is a no-op
// and spans cost next to nothing.
package tracing
