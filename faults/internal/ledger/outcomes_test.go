package ledger

import (
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/outcome"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

const testNS = events.Namespace("idsync")

// outcomeMsg is a stored outcome of provider about event, as the consumers
// publish it.
func outcomeMsg(t *testing.T, seq uint64, id, event, provider string, result eventsv1.OutcomeResult, dryRun bool) Msg {
	t.Helper()
	typ, ok := events.Default().OutcomeType(provider, events.OktaDeleteUser)
	if !ok {
		t.Fatalf("no outcome type for %s", provider)
	}
	m, err := events.Encode(testNS, events.Event{
		ID: id, Type: typ, Source: "urn:idsync:test", Subject: "00u1", Time: time.Now(),
		Payload: &eventsv1.Outcome{Provider: provider, EventId: event, EventType: events.OktaDeleteUser, Result: result, DryRun: dryRun},
	})
	if err != nil {
		t.Fatal(err)
	}
	m.Header.Set(nats.MsgIdHdr, id)
	return Msg{Seq: seq, Subject: m.Subject, Header: m.Header, Data: m.Data}
}

// TestCheckOutcomes checks the check: a provider an event never reached, a
// decision stored twice and a dry-run plan are each caught.
func TestCheckOutcomes(t *testing.T) {
	t.Parallel()
	want := map[string][]string{"ev-1": {"gitlab", "github"}}
	gitlab := outcomeMsg(t, 1, "o-1", "ev-1", "gitlab", outcome.Revoked, false)
	github := outcomeMsg(t, 2, "o-2", "ev-1", "github", outcome.Unchanged, false)

	if r := CheckOutcomes(testNS, []Msg{gitlab, github}, want); !r.OK() {
		t.Errorf("every provider reached once: %+v", r)
	}
	if r := CheckOutcomes(testNS, []Msg{gitlab}, want); !slices.Equal(r.Missing, []string{"ev-1→github"}) || r.OK() {
		t.Errorf("github never reached: %+v", r)
	}
	if r := CheckOutcomes(testNS, []Msg{gitlab, github, gitlab}, want); !slices.Equal(r.Duplicates, []string{"o-1"}) || r.OK() {
		t.Errorf("a decision stored twice: %+v", r)
	}
	skipped := outcomeMsg(t, 2, "o-2", "ev-1", "github", outcome.Skipped, false)
	if r := CheckOutcomes(testNS, []Msg{gitlab, skipped}, want); !slices.Equal(r.Missing, []string{"ev-1→github"}) {
		t.Errorf("a skip does not reach the provider: %+v", r)
	}
	planned := outcomeMsg(t, 2, "o-2", "ev-1", "github", outcome.Planned, true)
	if r := CheckOutcomes(testNS, []Msg{gitlab, planned}, want); r.DryRun != 1 || r.OK() {
		t.Errorf("a dry-run plan: %+v", r)
	}
}
