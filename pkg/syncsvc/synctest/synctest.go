// Package synctest runs a sync service against a real (in-process) JetStream
// for tests: it publishes events, waits until the consumer has settled them,
// and reads back the outcomes and dead letters.
package synctest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/bus/bustest"
	"github.com/idsync/idsync/pkg/console"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/guard"
	"github.com/idsync/idsync/pkg/httpserver"
	"github.com/idsync/idsync/pkg/logging"
	"github.com/idsync/idsync/pkg/okta"
	"github.com/idsync/idsync/pkg/reconcile"
	"github.com/idsync/idsync/pkg/service"
	"github.com/idsync/idsync/pkg/syncsvc"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

// Options tune a harness.
type Options struct {
	// Rules is a rules YAML document ("" = the built-in rules with Env).
	Rules string
	// Env feeds ${NAME} in the rules.
	Env map[string]string
	// DryRun forces IDSYNC_DRY_RUN.
	DryRun bool
	// Guard settings (zero: threshold 1000, window 1h).
	Guard guard.Config
	// Console lets the service read effective access (zero: not configured).
	Console console.Config
	// Okta gives the service Okta as a source (and okta-sync its provider);
	// zero: not configured.
	Okta okta.Config
	// Reconcile configures the reconciliation (zero: on demand only, report
	// by default); the service's Build sets Deps.Reconciler.
	Reconcile reconcile.Config
	// Settings of the consumer (zero: fast retries for tests).
	Settings bus.Settings
	// Server is a running server to use (nil: a fresh in-process one).
	Server *bustest.Server
}

// Harness is one running sync service.
type Harness struct {
	t      testing.TB
	NS     events.Namespace
	Conn   *bus.Conn
	Deps   *syncsvc.Deps
	Server *bustest.Server
	Reg    *prometheus.Registry
	spec   syncsvc.Spec
	cancel context.CancelFunc
	done   chan error
}

// FastSettings retry quickly so that tests do not wait.
func FastSettings() bus.Settings {
	return bus.Settings{
		Workers: 8, MaxAckPending: 64, AckWait: 5 * time.Second, MaxDeliver: 4,
		BackoffBase: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond,
		DrainTimeout: 10 * time.Second, LagInterval: time.Second,
	}
}

// Start runs spec against a fresh namespace.
func Start(t testing.TB, spec syncsvc.Spec, o Options) *Harness {
	t.Helper()
	srv := o.Server
	if srv == nil {
		srv = bustest.Start(t)
	}
	ns := bustest.Namespace(t)
	reg := prometheus.NewRegistry()
	conn, err := bus.Connect(bus.ConnConfig{URL: srv.URL()}, spec.Name, logging.Discard(), reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.NC.Close)
	if o.Settings.Workers == 0 {
		o.Settings = FastSettings()
	}
	if o.Guard.Window == 0 {
		o.Guard = guard.Config{Threshold: 1000, Window: time.Hour, Protected: o.Guard.Protected}
	}
	if o.Console.Timeout == 0 {
		o.Console.Timeout = 5 * time.Second
	}
	if o.Okta.Timeout == 0 {
		o.Okta.Timeout = 5 * time.Second
	}
	cfg := syncsvc.Config{
		Base: service.Base{
			HTTP:      httpserver.Config{Addr: "127.0.0.1:0"},
			Streams:   bus.StreamConfig{Replicas: 1, MaxAge: time.Hour, MaxBytes: 8 << 20, Duplicates: time.Hour, DLQMaxAge: time.Hour},
			Namespace: string(ns), ManageTopology: true, LogLevel: "info",
		},
		Settings: syncsvc.Settings{Consumer: o.Settings, Guard: o.Guard, Console: o.Console, Okta: o.Okta, DryRun: o.DryRun, Reconcile: o.Reconcile},
	}
	getenv := func(k string) string { return o.Env[k] }
	if o.Rules != "" {
		cfg.RulesFile = writeRules(t, o.Rules)
	}
	ctx, cancel := context.WithCancel(context.Background())
	run, deps, err := syncsvc.Start(ctx, cfg, conn, spec, getenv, logging.Discard(), reg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	h := &Harness{t: t, NS: ns, Conn: conn, Deps: deps, Server: srv, Reg: reg, spec: spec, cancel: cancel, done: make(chan error, 1)}
	go func() { h.done <- run(ctx) }()
	t.Cleanup(h.Stop)
	return h
}

// Stop cancels the consumer and waits for it to drain.
func (h *Harness) Stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("consumer: %v", err)
		}
	case <-time.After(30 * time.Second):
		h.t.Errorf("consumer did not stop")
	}
}

// Reconcile asks the service for a reconciliation on its endpoint, as
// `idsync reconcile` does, and returns the whole report (every item).
func (h *Harness) Reconcile(req reconcile.Request) (reconcile.Report, error) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return reconcile.Ask(ctx, h.Conn.NC, h.NS, h.spec.Provider, req, reconcile.RequestOptions{})
}

// Reports returns the reconciliation reports on the events stream.
func (h *Harness) Reports() []reconcile.Report {
	h.t.Helper()
	var out []reconcile.Report
	for _, m := range h.stream(bus.StreamEvents) {
		ev, err := events.Default().Decode(h.NS, m.Subject, m.Header, m.Data)
		if err != nil {
			continue
		}
		if p, ok := ev.Payload.(*eventsv1.ReconcileReport); ok {
			out = append(out, reconcile.FromEvent(p))
		}
	}
	return out
}

// Publish stores events on the events stream.
func (h *Harness) Publish(evs ...events.Event) {
	h.t.Helper()
	p := bus.NewPublisher(h.Conn, h.NS.Stream(bus.StreamEvents), 5*time.Second, prometheus.NewRegistry())
	for _, ev := range evs {
		m, err := events.Encode(h.NS, ev)
		if err != nil {
			h.t.Fatal(err)
		}
		if _, err := p.Publish(context.Background(), m); err != nil {
			h.t.Fatal(err)
		}
	}
}

// Settled reports whether the consumer has settled every message of the
// events stream: nothing pending, nothing in flight, and its ack floor at
// the stream's last message (right after a publish, and while a message
// waits for a delayed redelivery, the counts alone can read zero).
func (h *Harness) Settled() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := h.Conn.JS.Consumer(ctx, h.NS.Stream(bus.StreamEvents), h.spec.Name)
	if err != nil {
		return false
	}
	s, err := h.Conn.JS.Stream(ctx, h.NS.Stream(bus.StreamEvents))
	if err != nil {
		return false
	}
	info, err := c.Info(ctx)
	if err != nil {
		return false
	}
	last := s.CachedInfo().State.LastSeq
	if si, err := s.Info(ctx); err == nil {
		last = si.State.LastSeq
	}
	return info.NumPending == 0 && info.NumAckPending == 0 && info.AckFloor.Stream >= last
}

// WaitEachHandled waits until the consumer has handled every message of
// the events stream at least once. A message refused by a paused guard is
// held for a delayed redelivery (the server still counts it in flight), so
// "nothing in flight" never comes; but once every message has had its
// first handling, nothing the guard allowed is still on its way to the
// provider, and the providers' state is what the guard decided.
//
// Handled first deliveries are counted from the consumer's metrics as
// settled messages minus redeliveries: a redelivery still in the handler
// makes that an underestimate, so the wait errs on the long side.
func (h *Harness) WaitEachHandled() {
	h.t.Helper()
	Eventually(h.t, "every message handled once", 30*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s, err := h.Conn.JS.Stream(ctx, h.NS.Stream(bus.StreamEvents))
		if err != nil {
			return false
		}
		info, err := s.Info(ctx)
		if err != nil {
			return false
		}
		settled := h.counter("idsync_consumer_messages_total")
		redelivered := h.counter("idsync_consumer_redeliveries_total")
		return settled-redelivered >= float64(info.State.Msgs)
	})
}

// counter sums the counter family name over this consumer's series.
func (h *Harness) counter(name string) float64 {
	mfs, err := h.Reg.Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "consumer" && lp.GetValue() == h.spec.Name {
					sum += m.GetCounter().GetValue()
				}
			}
		}
	}
	return sum
}

// WaitSettled waits until the consumer has settled every published event.
func (h *Harness) WaitSettled() {
	h.t.Helper()
	Eventually(h.t, "consumer settled", 30*time.Second, h.Settled)
}

// Eventually polls cond until it holds or the timeout passes.
func Eventually(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (h *Harness) stream(base string) []*jetstream.RawStreamMsg {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := h.Conn.JS.Stream(ctx, h.NS.Stream(base))
	if err != nil {
		h.t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			continue // deleted
		}
		out = append(out, m)
	}
	return out
}

// Outcomes decodes every outcome published so far (guard alerts excluded).
func (h *Harness) Outcomes() []*eventsv1.Outcome {
	h.t.Helper()
	var out []*eventsv1.Outcome
	for _, m := range h.stream(bus.StreamOutcomes) {
		ev, err := events.Default().Decode(h.NS, m.Subject, m.Header, m.Data)
		if err != nil {
			h.t.Fatalf("outcome does not decode: %v", err)
		}
		if o, ok := ev.Payload.(*eventsv1.Outcome); ok {
			out = append(out, o)
		}
	}
	return out
}

// Alerts decodes the guard alerts published so far.
func (h *Harness) Alerts() []*eventsv1.GuardAlert {
	h.t.Helper()
	var out []*eventsv1.GuardAlert
	for _, m := range h.stream(bus.StreamOutcomes) {
		ev, err := events.Default().Decode(h.NS, m.Subject, m.Header, m.Data)
		if err == nil {
			if a, ok := ev.Payload.(*eventsv1.GuardAlert); ok {
				out = append(out, a)
			}
		}
	}
	return out
}

// DeadLetters returns the messages of the dead-letter stream.
func (h *Harness) DeadLetters() []*jetstream.RawStreamMsg { return h.stream(bus.StreamDLQ) }

// Describe renders outcomes as "<action> <result> <target name> <role>" lines.
func Describe(os []*eventsv1.Outcome) []string {
	out := make([]string, 0, len(os))
	for _, o := range os {
		out = append(out, fmt.Sprintf("%s %s %s %s", o.GetAction(), resultName(o.GetResult()), o.GetTarget().GetName(), o.GetRole()))
	}
	return out
}

func resultName(r eventsv1.OutcomeResult) string {
	switch r {
	case eventsv1.OutcomeResult_OUTCOME_RESULT_GRANTED:
		return "granted"
	case eventsv1.OutcomeResult_OUTCOME_RESULT_REVOKED:
		return "revoked"
	case eventsv1.OutcomeResult_OUTCOME_RESULT_UNCHANGED:
		return "unchanged"
	case eventsv1.OutcomeResult_OUTCOME_RESULT_SKIPPED:
		return "skipped"
	case eventsv1.OutcomeResult_OUTCOME_RESULT_PLANNED:
		return "planned"
	case eventsv1.OutcomeResult_OUTCOME_RESULT_FAILED:
		return "failed"
	}
	return "unspecified"
}

// OktaUserEvent builds an okta.create.user or okta.delete.user event.
func OktaUserEvent(typeName, id, userID, login string) events.Event {
	t, _ := events.Default().Lookup(typeName)
	et := events.OktaUserCreate
	if typeName == events.OktaDeleteUser {
		et = events.OktaUserDeleteInitiated
	}
	return events.Event{
		ID: id, Type: t, Source: "urn:test:okta", Subject: userID, Time: time.Now(),
		Payload: &eventsv1.OktaUserLifecycle{
			Uuid: id, EventType: et, Published: timestamppb.Now(),
			User: &eventsv1.OktaUser{Id: userID, Login: login, DisplayName: login},
		},
	}
}

// PermissionEvent builds a console.update.user.permission event.
func PermissionEvent(id string, change eventsv1.PermissionChange, userID, email, role, company, project, env string) events.Event {
	t, _ := events.Default().Lookup(events.ConsoleUpdateUserPermission)
	names := map[eventsv1.PermissionChange]string{
		eventsv1.PermissionChange_PERMISSION_CHANGE_ADDED:   "company_user_added",
		eventsv1.PermissionChange_PERMISSION_CHANGE_EDITED:  "company_user_edited",
		eventsv1.PermissionChange_PERMISSION_CHANGE_REMOVED: "company_user_removed",
	}
	return events.Event{
		ID: id, Type: t, Source: "urn:mia-platform:console:" + company, Subject: userID, Time: time.Now(),
		Payload: &eventsv1.ConsoleUserPermissionChanged{
			Change: change, ConsoleEventName: names[change], UserId: userID, Email: email, RoleId: role,
			Resource: &eventsv1.ConsoleResource{CompanyId: company, ProjectId: project, EnvironmentId: env},
		},
	}
}

// ProjectCreatedEvent builds a console.create.project event.
func ProjectCreatedEvent(id, company, project, name string) events.Event {
	t, _ := events.Default().Lookup(events.ConsoleCreateProject)
	return events.Event{
		ID: id, Type: t, Source: "urn:mia-platform:console:" + company, Subject: project, Time: time.Now(),
		Payload: &eventsv1.ConsoleProjectCreated{
			TenantId: company, ProjectId: project,
			Project: &eventsv1.ConsoleProject{Id: project, ProjectId: project, TenantId: company, Name: name},
		},
	}
}
