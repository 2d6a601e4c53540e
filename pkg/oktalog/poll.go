package oktalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/logging"
	"github.com/idsync/idsync/pkg/okta"
	"github.com/idsync/idsync/pkg/oktahook"
)

// dupMargin is taken off the duplicate window when deciding that an event
// may have left it: JetStream's window runs from when the hook stored the
// event (at or after its publication, by Okta's clock), and our clock may
// be behind Okta's.
const dupMargin = 5 * time.Minute

// routeLogs is the Origin.route of events read from the System Log.
const routeLogs = "/api/v1/logs"

// poll reads the window from the cursor to now − settle, page by page:
// each page is published, then the cursor written, before the next is read.
func (b *Backfill) poll(ctx context.Context) error {
	cur, rev, err := b.cursors.load(ctx)
	if err != nil {
		return failed(pollBusError, "%w", err)
	}
	now := time.Now().UTC()
	if rev == 0 {
		cur = Cursor{Org: b.o.OrgURL, Time: now.Add(-b.o.Config.Lookback)}
		if rev, err = b.cursors.save(ctx, cur, 0); err != nil {
			if errors.Is(err, errLost) {
				return err
			}
			return failed(pollBusError, "%w", err)
		}
		b.log.Info("no cursor yet: reading from the lookback", "since", cur.Time)
	}
	// Okta's times are milliseconds: the window ends where Okta reads it
	// ending, so that the cursor never passes an event the read left out.
	until := now.Add(-b.o.Config.Settle).Truncate(time.Millisecond)
	if !until.After(cur.Time) {
		b.m.lag.Set(now.Sub(cur.Time).Seconds())
		return nil
	}
	window, err := b.duplicateWindow(ctx)
	if err != nil {
		return failed(pollBusError, "%w", err)
	}
	// Okta keeps 90 days: a cursor older than that (a backfill stopped for
	// months) reads what is left.
	since := cur.Time.Add(-b.o.Config.Overlap)
	if oldest := now.Add(-maxLookback + time.Minute); since.Before(oldest) {
		since = oldest
	}
	q := okta.LogQuery{Since: since, Until: until, Filter: b.filter, Limit: b.o.Config.PageSize}
	err = b.o.Source.Logs(ctx, q, func(p okta.LogPage) error {
		if err := b.page(ctx, &cur, p.Events, window); err != nil {
			return err
		}
		cur.prune(b.o.Config.Overlap)
		next, err := b.cursors.save(ctx, cur, rev)
		if err != nil {
			return err
		}
		rev = next
		b.m.pages.Inc()
		b.m.lag.Set(time.Since(cur.Time).Seconds())
		return nil
	})
	if err != nil {
		var pe *pollError
		if errors.Is(err, errLost) || errors.As(err, &pe) || ctx.Err() != nil {
			return err
		}
		return failed(pollOktaError, "%w", err)
	}
	// Every page of the window is handled: the window is read up to until.
	if until.After(cur.Time) {
		cur.Time = until
	}
	cur.prune(b.o.Config.Overlap)
	if _, err := b.cursors.save(ctx, cur, rev); err != nil {
		if errors.Is(err, errLost) {
			return err
		}
		return failed(pollBusError, "%w", err)
	}
	b.m.lag.Set(time.Since(cur.Time).Seconds())
	return nil
}

// duplicateWindow is the events stream's: how long JetStream recognises a
// Nats-Msg-Id it has stored.
func (b *Backfill) duplicateWindow(ctx context.Context) (time.Duration, error) {
	s, err := b.o.JS.Stream(ctx, b.o.NS.Stream(bus.StreamEvents))
	if err != nil {
		return 0, fmt.Errorf("oktalog: events stream: %w", err)
	}
	return s.CachedInfo().Config.Duplicates, nil
}

// candidate is an event of the page to publish.
type candidate struct {
	ev  events.Event
	msg *nats.Msg
}

// page handles one page: every event is mapped as the event hook path maps
// it and published, unless handled already, not routed, invalid, or — past
// the duplicate window — held by the event log. Each is then recorded in
// the cursor as handled.
func (b *Backfill) page(ctx context.Context, cur *Cursor, raws []json.RawMessage, window time.Duration) error {
	meta := oktahook.Meta{Channel: oktahook.ChannelSystemLog, Route: routeLogs, Source: b.o.OrgURL, ReceivedAt: time.Now().UTC()}
	var cands []candidate
	handled := map[string]time.Time{}
	for _, raw := range raws {
		le, err := b.parser.ParseLogEvent(raw)
		if err != nil {
			// Without a uuid and a time it cannot be placed; the gateway
			// refuses such an event with a 400 too.
			b.m.events.WithLabelValues(resultInvalid).Inc()
			b.log.Warn("a System Log event is not valid; skipped as the gateway would refuse it", logging.Err(err))
			continue
		}
		published, _ := time.Parse(time.RFC3339Nano, le.Published)
		if _, done := cur.Handled[le.UUID]; done {
			b.m.events.WithLabelValues(resultReread).Inc()
			continue
		}
		if le.UUID != "" {
			handled[le.UUID] = published
		}
		t, ok := b.o.Routing.Route(b.cat, le.EventType)
		if !ok {
			b.m.events.WithLabelValues(resultIgnored).Inc()
			continue
		}
		// Encode refuses what the bus's headers cannot carry unchanged,
		// as the gateway does for a hook's events.
		ev, err := oktahook.Event(t, le, meta, b.o.RawMax)
		var msg *nats.Msg
		if err == nil {
			msg, err = events.Encode(b.o.NS, ev)
		}
		if err != nil {
			b.m.events.WithLabelValues(resultInvalid).Inc()
			b.log.Warn("a System Log event cannot be published; skipped as the gateway would refuse it",
				logging.KeyEventID, le.UUID, "okta_event_type", le.EventType, logging.Err(err))
			continue
		}
		cands = append(cands, candidate{ev: ev, msg: msg})
	}
	cands, err := b.withoutKnown(ctx, cands, window)
	if err != nil {
		return err
	}
	if len(cands) > 0 {
		msgs := make([]*nats.Msg, len(cands))
		for i, c := range cands {
			msgs[i] = c.msg
		}
		acks, err := b.o.Publisher.PublishAll(ctx, msgs)
		if err != nil {
			return failed(pollBusError, "oktalog: publishing %d events: %w", len(msgs), err)
		}
		published := 0
		for i, a := range acks {
			result := resultPublished
			if a.Duplicate {
				result = resultDuplicate
			} else {
				published++
				b.log.Debug("published an event that was not on the bus yet",
					logging.KeyEventID, cands[i].ev.ID, "type", cands[i].ev.Type.Name)
			}
			b.m.events.WithLabelValues(result).Inc()
		}
		if published > 0 {
			// What the hooks had not delivered (yet): the ids are at debug
			// level, and in the event log with origin.channel okta.system_log.
			b.log.Info("published System Log events that were not on the bus", "published", published, "read", len(raws))
		}
	}
	for id, t := range handled {
		cur.handle(id, t)
	}
	return nil
}

// withoutKnown drops the events the event log holds among those old enough
// to have left the duplicate window. Until the event log answers it waits
// and asks again: an old event is never published unchecked, nor skipped.
func (b *Backfill) withoutKnown(ctx context.Context, cands []candidate, window time.Duration) ([]candidate, error) {
	horizon := time.Now().Add(-(window - dupMargin))
	var old []string
	for _, c := range cands {
		if c.ev.Time.Before(horizon) {
			old = append(old, c.ev.ID)
		}
	}
	if len(old) == 0 {
		return cands, nil
	}
	var held map[string]bool
	for wait := min(b.eventlog, b.o.Config.Interval); ; wait = min(wait*2, b.o.Config.Interval) {
		var err error
		held, err = b.o.Index.Known(ctx, old)
		if err == nil {
			break
		}
		b.m.eventlog.Inc()
		b.log.Warn("the event log did not say which old events it holds; they wait", "events", len(old), "retry_in", wait, logging.Err(err))
		if !sleep(ctx, wait) {
			return nil, ctx.Err()
		}
	}
	out := cands[:0]
	for _, c := range cands {
		if held[c.ev.ID] {
			b.m.events.WithLabelValues(resultKnown).Inc()
			continue
		}
		out = append(out, c)
	}
	return out, nil
}
