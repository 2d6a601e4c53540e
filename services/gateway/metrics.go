package gateway

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/metrics"
)

type gatewayMetrics struct {
	requests       *prometheus.CounterVec
	duration       *prometheus.HistogramVec
	rejected       *prometheus.CounterVec
	events         *prometheus.CounterVec
	ignored        *prometheus.CounterVec
	verifications  *prometheus.CounterVec
	verifyQueue    prometheus.Gauge
	verifyDropped  prometheus.Counter
	verifyRecorded prometheus.Counter

	// eventSeries caches events' counters by eventSeries: the labels are
	// few (routes × catalog types × two results), and each published event
	// would otherwise look its counter up again.
	eventSeries sync.Map
}

type eventSeries struct{ route, typ, result string }

// eventCounter is events.WithLabelValues(route, typ, result), looked up once.
func (m *gatewayMetrics) eventCounter(route, typ, result string) prometheus.Counter {
	k := eventSeries{route, typ, result}
	if c, ok := m.eventSeries.Load(k); ok {
		return c.(prometheus.Counter)
	}
	c, _ := m.eventSeries.LoadOrStore(k, m.events.WithLabelValues(route, typ, result))
	return c.(prometheus.Counter)
}

func newGatewayMetrics(reg prometheus.Registerer) *gatewayMetrics {
	opts := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: metrics.Namespace, Subsystem: "gateway", Name: name, Help: help}
	}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return metrics.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts(opts(name, help)), labels))
	}
	return &gatewayMetrics{
		requests: counter("requests_total", "HTTP requests by route, method and status.", "route", "method", "status"),
		duration: metrics.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: metrics.Namespace, Subsystem: "gateway", Name: "request_duration_seconds",
			Help:    "HTTP request latency by route, publish included.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"})),
		rejected:      counter("rejected_total", "Requests refused, by route and error code.", "route", "code"),
		events:        counter("events_total", "Events from deliveries, by route, canonical type and result (published, duplicate).", "route", "type", "result"),
		ignored:       counter("events_ignored_total", "Okta events acknowledged but not published: not_enabled (not in the matrix nor forwarded) or other_endpoint.", "route", "reason"),
		verifications: counter("verify_email_decisions_total", "Registration inline hook decisions by result (allowed, denied).", "result"),
		verifyQueue: metrics.Register(reg, prometheus.NewGauge(prometheus.GaugeOpts(opts("verify_email_queue_depth",
			"okta.verify.email events waiting to be published.")))),
		verifyDropped: metrics.Register(reg, prometheus.NewCounter(prometheus.CounterOpts(opts("verify_email_dropped_total",
			"okta.verify.email events dropped because the queue was full (the inline hook was still answered).")))),
		verifyRecorded: metrics.Register(reg, prometheus.NewCounter(prometheus.CounterOpts(opts("verify_email_recorded_total",
			"okta.verify.email events stored on the bus.")))),
	}
}
