// Package oktalog is the Okta System Log backfill: it reads the System Log
// (GET /api/v1/logs) for the event types idsync publishes and publishes
// every event exactly as the event hook path does — the same mapping
// (pkg/oktahook), the same id and Nats-Msg-Id (the event's uuid) — so that
// JetStream stores once what both delivered and the sync consumers act on
// the events the hooks never delivered (a gateway outage, Okta's daily
// limit, a deactivated hook).
//
// One instance reads at a time: it holds a lease (pkg/lock) and keeps a
// cursor in a KV bucket, written after each page is durably published, so a
// restart or a standby instance taking over resumes exactly there. Each
// poll reads the window [cursor − overlap, now − settle): the System Log is
// eventually consistent, and an event stored late is caught by the next
// poll's overlap. An event older than the events stream's duplicate window,
// which JetStream would no longer recognise, is first checked against the
// event log (pkg/known); while the event log does not answer, the backfill
// waits and retries — it never publishes such an event blindly, and never
// skips it.
package oktalog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/lock"
	"github.com/idsync/idsync/pkg/logging"
	"github.com/idsync/idsync/pkg/okta"
	"github.com/idsync/idsync/pkg/oktahook"
)

// Source reads the System Log page by page (okta.Client.Logs).
type Source interface {
	Logs(ctx context.Context, q okta.LogQuery, page func(okta.LogPage) error) error
}

// Index tells which event ids the event log holds (known.Client).
type Index interface {
	Known(ctx context.Context, ids []string) (map[string]bool, error)
}

// Publisher stores events in the events stream (bus.Publisher).
type Publisher interface {
	PublishAll(ctx context.Context, msgs []*nats.Msg) ([]bus.Ack, error)
}

// Options are the backfill's dependencies.
type Options struct {
	Config Config
	// Routing decides which Okta event types are published, and as what:
	// the gateway's (IDSYNC_OKTA_DEACTIVATE_DELETES, …_FORWARD_EVENT_TYPES).
	Routing oktahook.Routing
	// RawMax bounds the raw event kept for audit (IDSYNC_RAW_PAYLOAD_MAX_BYTES).
	RawMax int
	// OrgURL is the Okta org read: the events' CloudEvents source, and the
	// key of the cursor and the lease.
	OrgURL string
	Source Source
	Index  Index
	// Publisher publishes to the events stream of NS.
	Publisher Publisher
	NS        events.Namespace
	// JS reads the events stream's duplicate window.
	JS jetstream.JetStream
	// Cursors is the bucket of cursors (bus.BucketOktaBackfill).
	Cursors jetstream.KeyValue
	// Locker gives the lease (a bucket of pkg/lock).
	Locker *lock.Locker
	Log    *slog.Logger
	Reg    prometheus.Registerer
}

// Backfill reads the System Log into the events stream.
type Backfill struct {
	o        Options
	cat      *events.Catalog
	parser   *oktahook.Parser
	filter   string
	cursors  cursors
	lockKey  string
	m        *meters
	log      *slog.Logger
	eventlog time.Duration // first wait when the event log does not answer
}

// LockPrefix starts the backfill's lease keys: okta-backfill.<org>.
const LockPrefix = "okta-backfill."

// New checks the options and builds the backfill.
func New(o Options) (*Backfill, error) {
	if err := o.Config.Validate(); err != nil {
		return nil, err
	}
	if o.OrgURL == "" || o.Source == nil || o.Index == nil || o.Publisher == nil || o.JS == nil || o.Cursors == nil || o.Locker == nil {
		return nil, errors.New("oktalog.New: org URL, source, index, publisher, JetStream, cursor bucket and locker are required")
	}
	cat := events.Default()
	if err := o.Routing.Validate(cat); err != nil {
		return nil, err
	}
	parser, err := oktahook.NewParser(o.RawMax)
	if err != nil {
		return nil, err
	}
	types, all := o.Routing.EventTypes(cat)
	filter := ""
	if !all {
		filter = Filter(types)
	}
	key := orgKey(o.OrgURL)
	return &Backfill{
		o: o, cat: cat, parser: parser, filter: filter,
		cursors: cursors{kv: o.Cursors, key: "cursor." + key}, lockKey: LockPrefix + key,
		m: newMeters(o.Reg), log: o.Log.With("org", o.OrgURL), eventlog: time.Second,
	}, nil
}

// Run reads the System Log whenever this instance holds the lease, and
// stands by otherwise, until ctx ends. It returns nil then; it never gives
// up on its own (NATS or Okta being down is waited out).
func (b *Backfill) Run(ctx context.Context) error {
	standby := b.o.Locker.TTL() / 3
	announced := false
	for ctx.Err() == nil {
		lease, err := b.o.Locker.Acquire(ctx, b.lockKey, "okta-backfill")
		if err != nil {
			if !errors.Is(err, lock.ErrHeld) && ctx.Err() == nil {
				b.log.Warn("cannot take the backfill's lease; retrying", logging.Err(err))
			} else if !announced {
				b.log.Info("standing by: another instance reads the System Log", "lease", b.lockKey)
				announced = true
			}
			b.observeLag(ctx)
			sleep(ctx, standby)
			continue
		}
		announced = false
		b.m.active.Set(1)
		b.log.Info("reading the Okta System Log", "lease", b.lockKey, "filter_types", b.filter != "")
		err = b.active(ctx, lease)
		b.m.active.Set(0)
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		if rerr := lease.Release(rctx); rerr != nil {
			b.log.Warn("releasing the backfill's lease", logging.Err(rerr))
		}
		cancel()
		if ctx.Err() == nil {
			b.log.Warn("stopped reading: another instance took over", logging.Err(err))
		}
	}
	return nil
}

// active polls every interval while the lease holds; it returns when ctx
// ends (nil) or the lease is lost (errLost).
func (b *Backfill) active(ctx context.Context, lease *lock.Lease) error {
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-lease.Lost():
			cancel()
		case <-pctx.Done():
		}
	}()
	failures := 0
	for {
		err := b.poll(pctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, errLost) || pctx.Err() != nil:
			b.m.polls.WithLabelValues(pollLost).Inc()
			return errLost
		case err != nil:
			failures++
			b.m.polls.WithLabelValues(pollResult(err)).Inc()
			b.log.Warn("polling the System Log failed; retrying", logging.Err(err), "failures", failures)
		default:
			failures = 0
			b.m.polls.WithLabelValues(pollOK).Inc()
		}
		// After a failure, come back sooner than the interval (1s, 2s, 4s…).
		wait := b.o.Config.Interval
		if failures > 0 {
			wait = min(wait, time.Second<<min(failures-1, 10))
		}
		if !sleep(pctx, wait) {
			if ctx.Err() != nil {
				return nil
			}
			b.m.polls.WithLabelValues(pollLost).Inc()
			return errLost
		}
	}
}

// observeLag reads the shared cursor and reports its lag (standbys too, so
// the metric does not depend on which instance is scraped).
func (b *Backfill) observeLag(ctx context.Context) {
	cur, rev, err := b.cursors.load(ctx)
	if err == nil && rev != 0 {
		b.m.lag.Set(time.Since(cur.Time).Seconds())
	}
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// pollError says where a poll failed, for the polls metric.
type pollError struct {
	result string
	err    error
}

func (e *pollError) Error() string { return e.err.Error() }
func (e *pollError) Unwrap() error { return e.err }

func failed(result string, format string, args ...any) error {
	return &pollError{result: result, err: fmt.Errorf(format, args...)}
}

func pollResult(err error) string {
	var pe *pollError
	if errors.As(err, &pe) {
		return pe.result
	}
	return pollBusError
}
