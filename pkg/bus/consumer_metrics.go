package bus

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/metrics"
)

// consumerMetrics are one consumer's view of the shared metric families.
type consumerMetrics struct {
	handled      *prometheus.CounterVec
	failures     *prometheus.CounterVec
	deadLettered *prometheus.CounterVec
	duration     prometheus.Observer
	redeliveries prometheus.Counter
	panics       prometheus.Counter
	pending      prometheus.Gauge
	ackPending   prometheus.Gauge
	redelivered  prometheus.Gauge
	waiting      prometheus.Gauge
	paused       prometheus.Gauge
	dlq          prometheus.Gauge
}

func newConsumerMetrics(reg prometheus.Registerer, consumer string) *consumerMetrics {
	l := prometheus.Labels{"consumer": consumer}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return metrics.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metrics.Namespace, Subsystem: "consumer", Name: name, Help: help,
		}, append([]string{"consumer"}, labels...)))
	}
	gauge := func(name, help string) prometheus.Gauge {
		return metrics.Register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: metrics.Namespace, Subsystem: "consumer", Name: name, Help: help,
		}, []string{"consumer"})).With(l)
	}
	duration := metrics.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: metrics.Namespace, Subsystem: "consumer", Name: "handle_duration_seconds",
		Help:    "Time to handle one message, provider calls included.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"consumer"}))
	return &consumerMetrics{
		handled:      counter("messages_total", "Messages settled, by result: ack, not_found, retry, dead_lettered.", "result").MustCurryWith(l),
		failures:     counter("failures_total", "Handler failures by error class: retryable, rate_limited, permanent, not_found, unknown.", "class").MustCurryWith(l),
		deadLettered: counter("dead_lettered_total", "Messages copied to the dead-letter stream, by error class.", "class").MustCurryWith(l),
		duration:     duration.With(l),
		redeliveries: counter("redeliveries_total", "Deliveries of a message that had been delivered before.").With(l),
		panics:       counter("panics_total", "Handler panics recovered (the message is retried).").With(l),
		pending:      gauge("pending_messages", "Messages matching the consumer's filters not yet delivered (backlog, the consumer's lag)."),
		ackPending:   gauge("ack_pending_messages", "Messages delivered but not yet acknowledged (in flight)."),
		redelivered:  gauge("redelivered_messages", "Messages currently in a redelivered state."),
		waiting:      gauge("waiting_pulls", "Open pull requests."),
		paused:       gauge("paused", "1 while the consumer is paused by its gate (the removal guard), 0 otherwise."),
		dlq:          gauge("dlq_messages", "Messages in the dead-letter stream on this consumer's subject (idsync.dlq.<consumer>), read with the lag."),
	}
}
