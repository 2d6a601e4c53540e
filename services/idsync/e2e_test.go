package idsync_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/idsync/idsync/pkg/events"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

// TestDeprovisioningEndToEnd runs the whole system (gateway, bus, the four
// sync consumers) against the demo's provider fakes and deletes bob in Okta:
// he must leave the Console company, be blocked in GitLab and leave the
// GitHub organization, and every decision must be recorded as an outcome.
func TestDeprovisioningEndToEnd(t *testing.T) {
	p := start(t, map[string]string{
		"IDSYNC_DATA_DIR": t.TempDir(), "IDSYNC_HTTP_ADDR": "127.0.0.1:0", "IDSYNC_NATS_LISTEN": "127.0.0.1:0",
		"IDSYNC_OKTA_HOOK_SECRET": oktaSecret, "IDSYNC_CONSOLE_WEBHOOK_SECRET": consoleSecret, "IDSYNC_DEMO": "true",
	})
	waitReady(t, p.httpURL)
	fakes := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^\s+(console|okta|gitlab|github)\s+(http://\S+)`).FindAllStringSubmatch(p.stdout.String(), -1) {
		fakes[m[1]] = m[2]
	}
	if len(fakes) != 4 {
		t.Fatalf("demo fakes not announced: %s", p.stdout.String())
	}
	// Before: bob is everywhere.
	if !consoleMember(t, fakes["console"], "bob") || gitlabState(t, fakes["gitlab"], "bob@example.com") != "active" || !githubMember(t, fakes["github"], "bob-gh") {
		t.Fatal("the demo organisation does not start with bob in every provider")
	}

	batch := []byte(`{"eventType":"com.okta.event_hook","source":"https://example.okta.com/api/v1/eventHooks/who1","eventId":"d-1",
	 "data":{"events":[{"uuid":"del-bob-1","published":"2026-11-23T10:00:00.000Z","eventType":"user.lifecycle.delete.initiated",
	  "actor":{"id":"00uadmin","type":"User","alternateId":"admin@example.com","displayName":"Admin"},
	  "target":[{"id":"00ubob","type":"User","alternateId":"bob@example.com","displayName":"Bob"}]}]}}`)
	if st, body := post(t, p.httpURL+"/okta/delete/user", http.Header{"Authorization": {oktaSecret}, "Content-Type": {"application/json"}}, batch); st != 200 {
		t.Fatalf("okta hook: %d %s", st, body)
	}

	deadline := time.Now().Add(30 * time.Second)
	for consoleMember(t, fakes["console"], "bob") || gitlabState(t, fakes["gitlab"], "bob@example.com") != "blocked" || githubMember(t, fakes["github"], "bob-gh") {
		if time.Now().After(deadline) {
			t.Fatalf("not deprovisioned: console %v, gitlab %s, github %v", consoleMember(t, fakes["console"], "bob"),
				gitlabState(t, fakes["gitlab"], "bob@example.com"), githubMember(t, fakes["github"], "bob-gh"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !consoleMember(t, fakes["console"], "alice") || !githubMember(t, fakes["github"], "alice-gh") {
		t.Fatal("alice was touched")
	}

	var got []string
	deadline = time.Now().Add(10 * time.Second)
	for {
		got = revokedOutcomes(t, p.natsURL)
		if len(got) >= 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	want := []string{"console company_user.remove", "github org_member.remove", "gitlab user.block"}
	if !slices.Equal(got, want) {
		t.Fatalf("revoked outcomes %v, want %v", got, want)
	}
}

func getJSON(t *testing.T, url string, header http.Header, out any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode == 200 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s: %v", url, err)
		}
	}
	return resp.StatusCode
}

func consoleMember(t *testing.T, base, user string) bool {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/api/m2m/oauth/token", bytes.NewReader([]byte("grant_type=client_credentials")))
	req.SetBasicAuth("idsync-demo", "demo-console-service-account-secret")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	tr, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(tr.Body).Decode(&tok)
	tr.Body.Close()
	var users []struct {
		UserID string `json:"userId"`
	}
	getJSON(t, base+"/api/companies/acme/users", http.Header{"Authorization": {"Bearer " + tok.AccessToken}}, &users)
	return slices.ContainsFunc(users, func(u struct {
		UserID string `json:"userId"`
	}) bool {
		return u.UserID == user
	})
}

func gitlabState(t *testing.T, base, email string) string {
	t.Helper()
	var users []struct {
		Email string `json:"email"`
		State string `json:"state"`
	}
	getJSON(t, base+"/api/v4/users?search="+email, http.Header{"PRIVATE-TOKEN": {"demo-gitlab-token"}}, &users)
	for _, u := range users {
		if u.Email == email {
			return u.State
		}
	}
	return "absent"
}

func githubMember(t *testing.T, base, login string) bool {
	t.Helper()
	return getJSON(t, base+"orgs/acme/memberships/"+login, http.Header{"Authorization": {"Bearer demo-github-token"}}, nil) == 200
}

// revokedOutcomes lists "<provider> <action>" of the revoked outcomes on the
// outcomes stream, sorted.
func revokedOutcomes(t *testing.T, natsURL string) []string {
	t.Helper()
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, "IDSYNC_OUTCOMES")
	if err != nil {
		return nil
	}
	info, _ := s.Info(ctx)
	var out []string
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			continue
		}
		ev, err := events.Default().Decode(events.DefaultNamespace, m.Subject, m.Header, m.Data)
		if err != nil {
			t.Fatalf("outcome does not decode: %v", err)
		}
		if o, ok := ev.Payload.(*eventsv1.Outcome); ok && o.GetResult() == eventsv1.OutcomeResult_OUTCOME_RESULT_REVOKED {
			out = append(out, o.GetProvider()+" "+o.GetAction())
		}
	}
	sort.Strings(out)
	return out
}
