package idsync

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/guard"
	"github.com/idsync/idsync/pkg/oktalog"
	"github.com/idsync/idsync/pkg/reconcile"
	"github.com/idsync/idsync/pkg/syncsvc"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

// statusReport is `idsync status --json`; its field names are stable.
type statusReport struct {
	Streams   []streamStatus   `json:"streams"`
	Consumers []consumerStatus `json:"consumers"`
	// DLQ is the number of dead letters per consumer (subject idsync.dlq.<consumer>).
	DLQ       map[string]uint64 `json:"dlq"`
	Providers []providerStatus  `json:"providers"`
	// Backfill is the Okta System Log backfill's cursor per org: how far
	// the log has been read (empty when the backfill never ran).
	Backfill []backfillStatus `json:"backfill"`
}

type backfillStatus struct {
	Org string `json:"org"`
	// ReadUpTo: every System Log event published before it was read and
	// handled; LagSeconds is now minus it.
	ReadUpTo   time.Time `json:"read_up_to"`
	LagSeconds float64   `json:"lag_seconds"`
}

type streamStatus struct {
	Name      string    `json:"name"`
	Messages  uint64    `json:"messages"`
	Bytes     uint64    `json:"bytes"`
	FirstTime time.Time `json:"first_time,omitzero"`
	LastTime  time.Time `json:"last_time,omitzero"`
	// Limits: -1 (or 0 for max_age) is no limit.
	MaxMsgs       int64   `json:"max_msgs"`
	MaxBytes      int64   `json:"max_bytes"`
	MaxAgeSeconds float64 `json:"max_age_seconds"`
	// MsgsUsedPct and BytesUsedPct are how full the stream is against its
	// limits; absent when that limit is unlimited.
	MsgsUsedPct  *float64 `json:"msgs_used_pct,omitempty"`
	BytesUsedPct *float64 `json:"bytes_used_pct,omitempty"`
}

type consumerStatus struct {
	Name   string `json:"name"`
	Stream string `json:"stream"`
	// Pending are matching messages not delivered yet; AckPending are
	// delivered and not acknowledged; Redelivered are unacknowledged
	// messages delivered more than once.
	Pending     uint64 `json:"pending"`
	AckPending  int    `json:"ack_pending"`
	Redelivered int    `json:"redelivered"`
	// Waiting is the number of open pull requests: above zero, some process
	// is pulling from the consumer right now.
	Waiting    int       `json:"waiting"`
	LastActive time.Time `json:"last_active,omitzero"`
	// GuardPaused: the removal guard paused the consumer (sync consumers only).
	GuardPaused bool      `json:"guard_paused"`
	GuardReason string    `json:"guard_reason,omitempty"`
	GuardSince  time.Time `json:"guard_since,omitzero"`
	DeadLetters uint64    `json:"dead_letters"`
}

// Where a provider's mode comes from.
const (
	modeAnnounced = "announced" // the consumer's entry in IDSYNC_SERVICES, written at its start
	modeLastSeen  = "last-outcome"
	modeNone      = "none"
)

type providerStatus struct {
	Provider string `json:"provider"`
	Consumer string `json:"consumer"`
	// Mode is live, dry-run or unknown; Why says why dry-run.
	Mode string `json:"mode"`
	Why  string `json:"why,omitempty"`
	// Source is how the mode is known: "announced" (written by the consumer
	// at start), "last-outcome" (the dry_run flag of its latest outcome, as
	// last seen) or "none".
	Source  string    `json:"source"`
	Since   time.Time `json:"since,omitzero"`
	Version string    `json:"version,omitempty"`
	Host    string    `json:"host,omitempty"`
	// Reconciled is the provider's last reconciliation (absent: none yet).
	Reconciled *reconcile.LastRun `json:"reconciled,omitempty"`
}

// runStatus is `idsync status`: streams, consumers, dead letters and the
// providers' modes on one screen.
func runStatus(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("idsync status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env, rest, err := connectCLI(ctx, "idsync status", args, getenv, stdout, stderr, fs)
	if err != nil {
		return err
	}
	defer env.close()
	if len(rest) > 0 {
		return fmt.Errorf("status: unexpected arguments %q", rest)
	}
	rep, err := gatherStatus(ctx, env.conn.JS, env.ns)
	if err != nil {
		return err
	}
	if env.json {
		return env.print(rep, nil, nil)
	}
	return printStatus(stdout, rep)
}

// idsyncStreams are the base names of idsync's streams, in display order.
var idsyncStreams = []string{bus.StreamEvents, bus.StreamOutcomes, bus.StreamDLQ}

func gatherStatus(ctx context.Context, js jetstream.JetStream, ns events.Namespace) (statusReport, error) {
	rep := statusReport{Streams: []streamStatus{}, Consumers: []consumerStatus{}, DLQ: map[string]uint64{}, Providers: []providerStatus{}, Backfill: []backfillStatus{}}
	infos, err := streamInfos(ctx, js, ns, "")
	if err != nil {
		return rep, err
	}
	for _, si := range infos {
		rep.Streams = append(rep.Streams, newStreamStatus(si))
	}
	// Dead letters by consumer: the DLQ stream's message count per subject.
	if dlq, err := js.Stream(ctx, ns.Stream(bus.StreamDLQ)); err == nil {
		si, err := dlq.Info(ctx, jetstream.WithSubjectFilter(ns.DLQ()))
		if err != nil {
			return rep, fmt.Errorf("status: dead letters: %w", err)
		}
		for subj, n := range si.State.Subjects {
			rep.DLQ[strings.TrimPrefix(subj, ns.DLQSubject(""))] = n
		}
	}
	guards, err := guardStates(ctx, js, ns)
	if err != nil {
		return rep, err
	}
	cis, err := consumerInfos(ctx, js, ns, "")
	if err != nil {
		return rep, err
	}
	for _, ci := range cis {
		cs := consumerStatus{
			Name: ci.Name, Stream: ci.Stream, Pending: ci.NumPending, AckPending: ci.NumAckPending,
			Redelivered: ci.NumRedelivered, Waiting: ci.NumWaiting, LastActive: lastActive(ci),
			DeadLetters: rep.DLQ[ci.Name],
		}
		if g, ok := guards[ci.Name]; ok && g.Paused {
			cs.GuardPaused, cs.GuardReason, cs.GuardSince = true, g.Reason, g.TrippedAt
		}
		rep.Consumers = append(rep.Consumers, cs)
	}
	if rep.Providers, err = providerModes(ctx, js, ns); err != nil {
		return rep, err
	}
	if err := lastReconciliations(ctx, js, ns, rep.Providers); err != nil {
		return rep, err
	}
	rep.Backfill, err = backfillCursors(ctx, js, ns, time.Now())
	return rep, err
}

// lastReconciliations adds each provider's last reconciliation, from the
// bucket every replica's runner records it in (read without creating it).
func lastReconciliations(ctx context.Context, js jetstream.JetStream, ns events.Namespace, ps []providerStatus) error {
	kv, err := js.KeyValue(ctx, ns.Stream(bus.BucketReconcile))
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("status: reconciliation bucket: %w", err)
	}
	for i := range ps {
		st, err := reconcile.ReadState(ctx, kv, ps[i].Provider)
		if err != nil {
			return fmt.Errorf("status: %w", err)
		}
		if st.Last.ID != "" {
			last := st.Last
			ps[i].Reconciled = &last
		}
	}
	return nil
}

// backfillCursors reads the System Log backfill's cursors (one per Okta
// org), without creating the bucket.
func backfillCursors(ctx context.Context, js jetstream.JetStream, ns events.Namespace, now time.Time) ([]backfillStatus, error) {
	out := []backfillStatus{}
	kv, err := js.KeyValue(ctx, ns.Stream(bus.BucketOktaBackfill))
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("status: backfill bucket: %w", err)
	}
	keys, err := kv.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("status: backfill bucket: %w", err)
	}
	var names []string
	for k := range keys.Keys() {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		e, err := kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("status: backfill cursor %s: %w", k, err)
		}
		var c oktalog.Cursor
		if err := json.Unmarshal(e.Value(), &c); err != nil || c.Time.IsZero() {
			continue // not a cursor this version can read
		}
		out = append(out, backfillStatus{Org: c.Org, ReadUpTo: c.Time.UTC(), LagSeconds: now.Sub(c.Time).Seconds()})
	}
	return out, nil
}

func newStreamStatus(si *jetstream.StreamInfo) streamStatus {
	st := streamStatus{
		Name: si.Config.Name, Messages: si.State.Msgs, Bytes: si.State.Bytes,
		MaxMsgs: si.Config.MaxMsgs, MaxBytes: si.Config.MaxBytes, MaxAgeSeconds: si.Config.MaxAge.Seconds(),
	}
	if si.State.Msgs > 0 {
		st.FirstTime, st.LastTime = si.State.FirstTime.UTC(), si.State.LastTime.UTC()
	}
	pct := func(used uint64, limit int64) *float64 {
		if limit <= 0 {
			return nil
		}
		p := float64(used) * 100 / float64(limit)
		return &p
	}
	st.MsgsUsedPct, st.BytesUsedPct = pct(si.State.Msgs, si.Config.MaxMsgs), pct(si.State.Bytes, si.Config.MaxBytes)
	return st
}

// lastActive is when the consumer last delivered or saw an acknowledgement.
func lastActive(ci *jetstream.ConsumerInfo) time.Time {
	var t time.Time
	for _, l := range []*time.Time{ci.Delivered.Last, ci.AckFloor.Last} {
		if l != nil && l.After(t) {
			t = l.UTC()
		}
	}
	return t
}

// guardStates reads the removal guards' bucket without creating it.
func guardStates(ctx context.Context, js jetstream.JetStream, ns events.Namespace) (map[string]guard.State, error) {
	out := map[string]guard.State{}
	kv, err := js.KeyValue(ctx, ns.Stream(bus.BucketGuard))
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("status: guard bucket: %w", err)
	}
	for name := range syncConsumers {
		e, err := kv.Get(ctx, name)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("status: guard of %s: %w", name, err)
		}
		var st guard.State
		if err := json.Unmarshal(e.Value(), &st); err != nil {
			return nil, fmt.Errorf("status: guard state of %s is corrupt: %w", name, err)
		}
		out[name] = st
	}
	return out, nil
}

// providerModes says, per provider, whether its consumer runs live or in
// dry-run: from the consumer's announcement at start when there is one,
// otherwise from its most recent outcome (as last seen).
func providerModes(ctx context.Context, js jetstream.JetStream, ns events.Namespace) ([]providerStatus, error) {
	ann, err := syncsvc.Announcements(ctx, js, ns)
	if err != nil {
		return nil, err
	}
	var out []providerStatus
	for _, p := range events.Providers {
		ps := providerStatus{Provider: p, Consumer: p + "-sync", Mode: "unknown", Source: modeNone}
		if a, ok := ann[ps.Consumer]; ok {
			ps.Mode, ps.Why, ps.Source, ps.Since, ps.Version, ps.Host = a.Mode, a.Why, modeAnnounced, a.Started, a.Version, a.Host
		} else if o, at, ok := lastOutcome(ctx, js, ns, p); ok {
			ps.Mode, ps.Source, ps.Since = syncsvc.ModeLive, modeLastSeen, at
			if o.GetDryRun() {
				ps.Mode = syncsvc.ModeDryRun
			}
		}
		out = append(out, ps)
	}
	return out, nil
}

// lastOutcome finds the provider's most recent outcome published by its
// consumer (not a sample sent by `idsync send`).
func lastOutcome(ctx context.Context, js jetstream.JetStream, ns events.Namespace, provider string) (*eventsv1.Outcome, time.Time, bool) {
	s, err := js.Stream(ctx, ns.Stream(bus.StreamOutcomes))
	if err != nil {
		return nil, time.Time{}, false
	}
	var best *eventsv1.Outcome
	var at time.Time
	for _, t := range events.Default().Types() {
		if t.Kind != events.KindOutcome || !slices.Contains(t.Providers, provider) {
			continue
		}
		m, err := lastFromService(ctx, s, ns.Subject(t))
		if err != nil || m.Time.Before(at) {
			continue
		}
		ev, err := events.Default().Decode(ns, m.Subject, m.Header, m.Data)
		if o, ok := ev.Payload.(*eventsv1.Outcome); err == nil && ok {
			best, at = o, m.Time.UTC()
		}
	}
	return best, at, best != nil
}

// lastFromService returns the last message on subject that `idsync send`
// did not publish: past samples, it looks back at most 256 messages.
func lastFromService(ctx context.Context, s jetstream.Stream, subject string) (*jetstream.RawStreamMsg, error) {
	const lookBack = 256
	m, err := s.GetLastMsgForSubject(ctx, subject)
	if err != nil || m.Header.Get(events.HeaderSource) != cliSource {
		return m, err
	}
	for seq := m.Sequence - 1; seq >= 1 && m.Sequence-seq <= lookBack; seq-- {
		c, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if c.Subject == subject && c.Header.Get(events.HeaderSource) != cliSource {
			return c, nil
		}
	}
	return nil, jetstream.ErrMsgNotFound
}

func printStatus(w io.Writer, rep statusReport) error {
	var streams, consumers, providers [][]string
	for _, s := range rep.Streams {
		streams = append(streams, []string{s.Name, strconv.FormatUint(s.Messages, 10), humanBytes(s.Bytes), when(s.FirstTime), when(s.LastTime), percent(s.MsgsUsedPct), percent(s.BytesUsedPct)})
	}
	for _, c := range rep.Consumers {
		g := "-"
		if _, ok := syncConsumers[c.Name]; ok {
			g = "running"
		}
		if c.GuardPaused {
			g = "PAUSED since " + when(c.GuardSince) + ": " + c.GuardReason
		}
		consumers = append(consumers, []string{c.Name, c.Stream, strconv.FormatUint(c.Pending, 10), strconv.Itoa(c.AckPending), strconv.Itoa(c.Redelivered),
			strconv.Itoa(c.Waiting), when(c.LastActive), strconv.FormatUint(c.DeadLetters, 10), g})
	}
	for _, p := range rep.Providers {
		mode := p.Mode
		if p.Why != "" {
			mode += " (" + p.Why + ")"
		}
		from := map[string]string{modeAnnounced: "announced at start", modeLastSeen: "last outcome (as last seen)", modeNone: "nothing yet"}[p.Source]
		providers = append(providers, []string{p.Provider, p.Consumer, mode, from, when(p.Since), dash(p.Version), reconciled(p.Reconciled)})
	}
	var backfill [][]string
	for _, b := range rep.Backfill {
		backfill = append(backfill, []string{b.Org, when(b.ReadUpTo), (time.Duration(b.LagSeconds) * time.Second).String()})
	}
	e := &cliEnv{stdout: w}
	for i, t := range []struct {
		header []string
		rows   [][]string
	}{
		{[]string{"STREAM", "MESSAGES", "BYTES", "FIRST", "LAST", "MSGS USED", "BYTES USED"}, streams},
		{[]string{"CONSUMER", "STREAM", "PENDING", "ACK PENDING", "REDELIVERED", "PULLS", "LAST ACTIVE", "DEAD LETTERS", "GUARD"}, consumers},
		{[]string{"PROVIDER", "CONSUMER", "MODE", "KNOWN FROM", "SINCE", "VERSION", "LAST RECONCILED"}, providers},
		{[]string{"OKTA SYSTEM LOG", "READ UP TO", "LAG"}, backfill},
	} {
		if len(t.rows) == 0 && t.header[0] == "OKTA SYSTEM LOG" {
			continue // no backfill has run: nothing to say
		}
		if i > 0 {
			fmt.Fprintln(w)
		}
		if err := e.print(nil, t.header, t.rows); err != nil {
			return err
		}
	}
	var dead []string
	for c, n := range rep.DLQ {
		if !slices.Contains(consumerNames(rep.Consumers), c) && n > 0 {
			dead = append(dead, c+" "+strconv.FormatUint(n, 10))
		}
	}
	if len(dead) > 0 {
		slices.Sort(dead)
		_, err := fmt.Fprintf(w, "\ndead letters of other consumers: %s\n", strings.Join(dead, ", "))
		return err
	}
	return nil
}

// reconciled sums up a provider's last reconciliation for the table.
func reconciled(r *reconcile.LastRun) string {
	if r == nil {
		return "never"
	}
	what := "report"
	if r.Apply {
		what = "apply"
	}
	s := fmt.Sprintf("%s %s, %s: %d found, %d remaining", when(r.Finished), what, r.Result, r.Items, r.Remaining)
	if r.Error != "" {
		s += " (" + r.Error + ")"
	}
	return s
}

func consumerNames(cs []consumerStatus) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	slices.Sort(out)
	return out
}

func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func percent(p *float64) string {
	if p == nil {
		return "no limit"
	}
	return strconv.FormatFloat(*p, 'f', 1, 64) + "%"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func humanBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatUint(n, 10) + " B"
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
