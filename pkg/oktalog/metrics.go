package oktalog

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/metrics"
)

// Results of an event read from the System Log.
const (
	// resultPublished: stored in the events stream by the backfill (the
	// hook had not delivered it, or not yet).
	resultPublished = "published"
	// resultDuplicate: JetStream already had it (the hook delivered it).
	resultDuplicate = "duplicate"
	// resultKnown: older than the duplicate window and already in the
	// event log, so not sent again.
	resultKnown = "known"
	// resultReread: handled by an earlier poll, read again in the overlap.
	resultReread = "reread"
	// resultIgnored: a type the routing does not publish (as the gateway
	// acknowledges and drops it).
	resultIgnored = "ignored"
	// resultInvalid: refused by the schema or the mapping, as the gateway
	// would have refused it.
	resultInvalid = "invalid"
)

// Results of a poll.
const (
	pollOK        = "ok"
	pollOktaError = "okta_error"
	pollBusError  = "bus_error"
	pollLost      = "lost"
)

type meters struct {
	lag      prometheus.Gauge
	active   prometheus.Gauge
	events   *prometheus.CounterVec
	polls    *prometheus.CounterVec
	pages    prometheus.Counter
	eventlog prometheus.Counter
}

func newMeters(reg prometheus.Registerer) *meters {
	m := &meters{
		lag: metrics.Register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: metrics.Namespace, Subsystem: "okta_backfill", Name: "lag_seconds",
			Help: "How far behind now the Okta System Log has been read (now minus the cursor); every instance reports it from the shared cursor.",
		})),
		active: metrics.Register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: metrics.Namespace, Subsystem: "okta_backfill", Name: "active",
			Help: "1 while this instance holds the backfill's lease and reads the System Log, 0 on standby.",
		})),
		events: metrics.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metrics.Namespace, Subsystem: "okta_backfill", Name: "events_total",
			Help: "System Log events read, by result: published, duplicate (the hook delivered it), known (in the event log, past the duplicate window), reread, ignored, invalid.",
		}, []string{"result"})),
		polls: metrics.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metrics.Namespace, Subsystem: "okta_backfill", Name: "polls_total",
			Help: "Polls of the System Log by result: ok, okta_error, bus_error (NATS or the event log), lost (another instance took over). Rate limits are waited out within a poll.",
		}, []string{"result"})),
		pages: metrics.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: metrics.Namespace, Subsystem: "okta_backfill", Name: "pages_total",
			Help: "System Log pages read and handled.",
		})),
		eventlog: metrics.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: metrics.Namespace, Subsystem: "okta_backfill", Name: "eventlog_retries_total",
			Help: "Times old events waited because the event log did not answer whether it holds them.",
		})),
	}
	// Every series exists from the start, so that rates and alerts see a 0.
	for _, r := range []string{resultPublished, resultDuplicate, resultKnown, resultReread, resultIgnored, resultInvalid} {
		m.events.WithLabelValues(r)
	}
	for _, r := range []string{pollOK, pollOktaError, pollBusError, pollLost} {
		m.polls.WithLabelValues(r)
	}
	return m
}
