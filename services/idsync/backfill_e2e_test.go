package idsync_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/syncsvc/synctest"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

// TestBackfillRecoversLostHookDeliveries runs the all-in-one on the demo's
// fakes with the System Log backfill polling every second. Bob is deleted in
// Okta while the gateway cannot take Okta's hook delivery (it is never
// sent): the backfill publishes the deletion within one poll, and the
// consumers deprovision him once. Alice is deleted too, and that delivery
// does arrive: the backfill reads the same event from the System Log, and
// it is stored and acted on once.
func TestBackfillRecoversLostHookDeliveries(t *testing.T) {
	p := start(t, map[string]string{
		"IDSYNC_DATA_DIR": t.TempDir(), "IDSYNC_HTTP_ADDR": "127.0.0.1:0", "IDSYNC_NATS_LISTEN": "127.0.0.1:0",
		"IDSYNC_OKTA_HOOK_SECRET": oktaSecret, "IDSYNC_CONSOLE_WEBHOOK_SECRET": consoleSecret, "IDSYNC_DEMO": "true",
		"IDSYNC_OKTA_BACKFILL_INTERVAL": "1s", "IDSYNC_OKTA_BACKFILL_SETTLE": "0s",
	})
	waitReady(t, p.httpURL)
	m := regexp.MustCompile(`(?m)^\s+okta\s+(http://\S+)`).FindStringSubmatch(p.stdout.String())
	if m == nil {
		t.Fatalf("no Okta fake in the banner:\n%s", p.stdout.String())
	}
	oktaURL, fakes := m[1], demoFakes(t, p)
	metric := func(name, result string) float64 {
		re := regexp.MustCompile(`(?m)^` + name + `\{result="` + result + `"\} (\S+)$`)
		mm := re.FindStringSubmatch(scrape(t, p.httpURL+"/metrics"))
		if mm == nil {
			return -1
		}
		v, _ := strconv.ParseFloat(mm[1], 64)
		return v
	}
	waitForCond(t, "the backfill polling", func() bool { return metric("idsync_okta_backfill_polls_total", "ok") >= 1 })

	// Bob: the hook delivery is lost.
	pollsBefore := metric("idsync_okta_backfill_polls_total", "ok")
	deleted := time.Now()
	oktaDeleteUser(t, oktaURL, "bob@example.com")
	waitForCond(t, "the backfill publishing bob's deletion", func() bool {
		return metric("idsync_okta_backfill_events_total", "published") == 1
	})
	t.Logf("bob's deletion reached the bus %s after it happened in Okta (poll interval 1s)", time.Since(deleted).Round(10*time.Millisecond))
	// The poll running at the deletion may have missed it; the next one
	// must not have.
	if polls := metric("idsync_okta_backfill_polls_total", "ok"); polls > pollsBefore+2 {
		t.Errorf("published after %v polls, want within one poll interval", polls-pollsBefore)
	}
	waitForCond(t, "bob deprovisioned", func() bool {
		return !consoleMember(t, fakes["console"], "bob") && gitlabState(t, fakes["gitlab"], "bob@example.com") == "blocked" &&
			!githubMember(t, fakes["github"], "bob-gh")
	})
	bobEvent := oktaLogEvent(t, oktaURL, "bob@example.com")
	want := []string{"console revoked company_user.remove", "github revoked org_member.remove", "gitlab revoked user.block"}
	waitForCond(t, "bob's outcomes", func() bool { return len(outcomesOf(t, p.natsURL, bobEvent.UUID)) >= 3 })

	// Alice: the hook delivery arrives, and the backfill reads it too.
	oktaDeleteUser(t, oktaURL, "alice@example.com")
	aliceEvent := oktaLogEvent(t, oktaURL, "alice@example.com")
	body, _ := json.Marshal(map[string]any{"eventType": "com.okta.event_hook", "eventId": "delivery-alice",
		"source": oktaURL + "/api/v1/eventHooks/who1", "data": map[string]any{"events": []json.RawMessage{aliceEvent.raw}}})
	if st, resp := post(t, p.httpURL+"/okta/events", http.Header{"Authorization": {oktaSecret}, "Content-Type": {"application/json"}}, body); st != 200 {
		t.Fatalf("hook delivery: %d %s", st, resp)
	}
	waitForCond(t, "the backfill reading alice's deletion too", func() bool {
		return metric("idsync_okta_backfill_events_total", "duplicate")+metric("idsync_okta_backfill_events_total", "published") == 2
	})
	waitForCond(t, "alice's outcomes", func() bool { return len(outcomesOf(t, p.natsURL, aliceEvent.UUID)) >= 3 })
	// Let the consumers see whatever a second copy would have caused.
	polls := metric("idsync_okta_backfill_polls_total", "ok")
	waitForCond(t, "two more polls", func() bool { return metric("idsync_okta_backfill_polls_total", "ok") >= polls+2 })

	for who, id := range map[string]string{"bob": bobEvent.UUID, "alice": aliceEvent.UUID} {
		if n := storedWithID(t, p.natsURL, id); n != 1 {
			t.Errorf("%s's deletion is %d times in the events stream, want once", who, n)
		}
		if got := outcomesOf(t, p.natsURL, id); !slices.Equal(got, want) {
			t.Errorf("%s's outcomes %v, want each provider acting once: %v", who, got, want)
		}
	}
}

// demoFakes are the fakes' URLs the banner announces.
func demoFakes(t *testing.T, p *process) map[string]string {
	t.Helper()
	fakes := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^\s+(console|okta|gitlab|github)\s+(http://\S+)`).FindAllStringSubmatch(p.stdout.String(), -1) {
		fakes[m[1]] = m[2]
	}
	if len(fakes) != 4 {
		t.Fatalf("demo fakes not announced: %s", p.stdout.String())
	}
	return fakes
}

func waitForCond(t *testing.T, what string, cond func() bool) {
	t.Helper()
	synctest.Eventually(t, what, 30*time.Second, cond)
}

// oktaRequest calls the demo's Okta with its API token.
func oktaRequest(t *testing.T, method, u string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, u, nil)
	req.Header.Set("Authorization", "SSWS demo-okta-api-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// oktaDeleteUser deletes a user as an admin does through Okta's API: the
// first DELETE deactivates, the second deletes.
func oktaDeleteUser(t *testing.T, oktaURL, login string) {
	t.Helper()
	resp := oktaRequest(t, "GET", oktaURL+"/api/v1/users/"+url.PathEscape(login))
	var u struct{ ID string }
	_ = json.NewDecoder(resp.Body).Decode(&u)
	resp.Body.Close()
	if u.ID == "" {
		t.Fatalf("no Okta user %s", login)
	}
	for range 2 {
		resp := oktaRequest(t, "DELETE", oktaURL+"/api/v1/users/"+u.ID)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("DELETE %s: %d", login, resp.StatusCode)
		}
	}
}

type loggedEvent struct {
	UUID string
	raw  json.RawMessage
}

// oktaLogEvent finds the user.lifecycle.delete.initiated event Okta logged
// about login, as its System Log API returns it.
func oktaLogEvent(t *testing.T, oktaURL, login string) loggedEvent {
	t.Helper()
	q := url.Values{"filter": {`eventType eq "user.lifecycle.delete.initiated" and target.alternateId eq "` + login + `"`},
		"since": {time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}, "until": {time.Now().Add(time.Second).UTC().Format(time.RFC3339)}}
	resp := oktaRequest(t, "GET", oktaURL+"/api/v1/logs?"+q.Encode())
	defer resp.Body.Close()
	var raws []json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&raws); err != nil || len(raws) != 1 {
		t.Fatalf("System Log of %s's deletion: %d events (%v)", login, len(raws), err)
	}
	var e struct{ UUID string }
	_ = json.Unmarshal(raws[0], &e)
	return loggedEvent{UUID: e.UUID, raw: raws[0]}
}

// eachStreamMsg calls f on every message of a stream.
func eachStreamMsg(t *testing.T, natsURL, stream string, f func(*jetstream.RawStreamMsg)) {
	t.Helper()
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		if m, err := s.GetMsg(ctx, seq); err == nil {
			f(m)
		}
	}
}

// storedWithID counts the events stream's messages with that id.
func storedWithID(t *testing.T, natsURL, id string) int {
	n := 0
	eachStreamMsg(t, natsURL, "IDSYNC_EVENTS", func(m *jetstream.RawStreamMsg) {
		if m.Header.Get(events.HeaderID) == id {
			n++
		}
	})
	return n
}

// outcomesOf lists "<provider> <result> <action>" of every outcome about the
// event, sorted.
func outcomesOf(t *testing.T, natsURL, eventID string) []string {
	var out []string
	eachStreamMsg(t, natsURL, "IDSYNC_OUTCOMES", func(m *jetstream.RawStreamMsg) {
		ev, err := events.Default().Decode(events.DefaultNamespace, m.Subject, m.Header, m.Data)
		if err != nil {
			t.Fatalf("outcome does not decode: %v", err)
		}
		if o, ok := ev.Payload.(*eventsv1.Outcome); ok && o.GetEventId() == eventID {
			result := map[eventsv1.OutcomeResult]string{eventsv1.OutcomeResult_OUTCOME_RESULT_REVOKED: "revoked"}[o.GetResult()]
			if result == "" {
				result = fmt.Sprint(o.GetResult())
			}
			out = append(out, o.GetProvider()+" "+result+" "+o.GetAction())
		}
	})
	slices.Sort(out)
	return out
}
