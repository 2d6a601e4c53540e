package eventlog

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/logging"
	"github.com/idsync/idsync/pkg/metrics"
	"github.com/idsync/idsync/services/eventlog/store"
)

// Retain deletes records older than maxAge every interval, in the
// background; the stores purge in small steps so writes never wait long.
// It returns when ctx ends.
func Retain(ctx context.Context, st store.Store, maxAge, interval time.Duration, log *slog.Logger, reg prometheus.Registerer) {
	purged := metrics.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: metrics.Namespace, Subsystem: "eventlog", Name: "purged_total",
		Help: "Records deleted by the retention (IDSYNC_EVENTLOG_RETENTION).",
	}))
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := st.Purge(ctx, time.Now().Add(-maxAge))
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("retention purge failed; next attempt later", logging.Err(err))
		case n > 0:
			purged.Add(float64(n))
			log.Info("retention purge", "deleted", n, "older_than", maxAge)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
