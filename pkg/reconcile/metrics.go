package reconcile

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/metrics"
)

// Results of a run, as counted by idsync_reconcile_runs_total.
const (
	// RunOK: the run reached its end (with or without drift).
	RunOK = "ok"
	// RunFailed: Diff failed, or Apply returned an error that stopped it.
	RunFailed = "failed"
	// RunInterrupted: shutdown or a lost lock stopped it.
	RunInterrupted = "interrupted"
	// RunBusy: refused, another run of the provider held the lock.
	RunBusy = "busy"
)

var runResults = []string{RunOK, RunFailed, RunInterrupted, RunBusy}

// runnerMetrics are one provider's reconciliation metrics. Every series is
// created at zero when the runner starts, so dashboards and alerts see the
// provider before its first run.
type runnerMetrics struct {
	runs        *prometheus.CounterVec
	items       *prometheus.CounterVec
	duration    prometheus.Observer
	lastSuccess prometheus.Gauge
	pending     prometheus.Gauge
}

func newRunnerMetrics(reg prometheus.Registerer, provider string) runnerMetrics {
	runs := metrics.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: metrics.Namespace, Subsystem: "reconcile", Name: "runs_total",
		Help: "Reconciliation runs by provider, trigger (schedule, request) and result (ok, failed, interrupted, busy).",
	}, []string{"provider", "trigger", "result"}))
	items := metrics.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: metrics.Namespace, Subsystem: "reconcile", Name: "items_total",
		Help: "Differences found by reconciliations, by provider, operation (add, change, remove) and result (pending, applied, unchanged, skipped, planned, paused, failed).",
	}, []string{"provider", "op", "result"}))
	duration := metrics.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: metrics.Namespace, Subsystem: "reconcile", Name: "duration_seconds",
		Help:    "Time of a reconciliation run, listings and apply included.",
		Buckets: []float64{.1, .5, 1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200},
	}, []string{"provider"}))
	lastSuccess := metrics.Register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: metrics.Namespace, Subsystem: "reconcile", Name: "last_success_timestamp_seconds",
		Help: "When this replica's last reconciliation of the provider that reached its end finished (Unix seconds; 0 = none yet).",
	}, []string{"provider"}))
	pending := metrics.Register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: metrics.Namespace, Subsystem: "reconcile", Name: "pending_items",
		Help: "Differences left after this replica's last reconciliation of the provider that reached its end (not applied, skipped, paused, failed).",
	}, []string{"provider"}))
	for _, trigger := range []string{TriggerSchedule, TriggerRequest} {
		for _, res := range runResults {
			runs.WithLabelValues(provider, trigger, res)
		}
	}
	for _, op := range ops {
		for _, res := range results {
			items.WithLabelValues(provider, string(op), resultName(res))
		}
	}
	return runnerMetrics{
		runs: runs, items: items,
		duration:    duration.WithLabelValues(provider),
		lastSuccess: lastSuccess.WithLabelValues(provider),
		pending:     pending.WithLabelValues(provider),
	}
}
