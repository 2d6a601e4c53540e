package eventlog

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/metrics"
	"github.com/idsync/idsync/services/eventlog/store"
)

// Durable is the event log's consumer name on each of the three streams.
const Durable = "eventlog"

// Ingest writes every message of the events, outcomes and dead-letter
// streams to the store, in batches, acknowledging only after the commit.
type Ingest struct {
	consumers []*bus.BatchConsumer
}

// ingestMetrics count what was stored.
type ingestMetrics struct {
	stored *prometheus.CounterVec
	insert prometheus.Observer
}

// NewIngest builds the three batch consumers.
func NewIngest(conn *bus.Conn, ns events.Namespace, st store.Store, s bus.BatchSettings, log *slog.Logger, reg prometheus.Registerer) (*Ingest, error) {
	m := ingestMetrics{
		stored: metrics.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metrics.Namespace, Subsystem: "eventlog", Name: "records_total",
			Help: "Records written to the event log, by kind and result (stored, duplicate).",
		}, []string{"kind", "result"})),
		insert: metrics.Register(reg, prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: metrics.Namespace, Subsystem: "eventlog", Name: "insert_duration_seconds",
			Help:    "Time to commit one batch to the store.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		})),
	}
	mp := mapper{ns: ns, cat: events.Default(), now: time.Now}
	handler := func(ctx context.Context, msgs []jetstream.Msg) error {
		recs := make([]store.Record, len(msgs))
		for i, msg := range msgs {
			recs[i] = mp.record(msg)
		}
		start := time.Now()
		isNew, err := st.Insert(ctx, recs)
		if err != nil {
			return fmt.Errorf("eventlog: storing %d records: %w", len(recs), err)
		}
		m.insert.Observe(time.Since(start).Seconds())
		type key struct{ kind, result string }
		counts := map[key]int{}
		for i, r := range recs {
			result := "duplicate"
			if isNew[i] {
				result = "stored"
			}
			counts[key{r.Kind, result}]++
		}
		for k, c := range counts {
			m.stored.WithLabelValues(k.kind, k.result).Add(float64(c))
		}
		return nil
	}
	in := &Ingest{}
	for _, spec := range []bus.ConsumerSpec{
		{Durable: Durable, Stream: bus.StreamEvents, FilterSubjects: []string{ns.Events()}},
		{Durable: Durable, Stream: bus.StreamOutcomes, FilterSubjects: []string{ns.Outcomes()}},
		{Durable: Durable, Stream: bus.StreamDLQ, FilterSubjects: []string{ns.DLQ()}},
	} {
		c, err := bus.NewBatchConsumer(conn, ns, spec, s, handler, log, reg)
		if err != nil {
			return nil, err
		}
		in.consumers = append(in.consumers, c)
	}
	return in, nil
}

// Run runs the three consumers until ctx ends; each finishes its batch.
func (in *Ingest) Run(ctx context.Context) error {
	errc := make(chan error, len(in.consumers))
	for _, c := range in.consumers {
		go func() { errc <- c.Run(ctx) }()
	}
	var first error
	for range in.consumers {
		if err := <-errc; err != nil && first == nil {
			first = err
		}
	}
	return first
}
