package idsync_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/idsync/idsync/pkg/events"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
	"github.com/idsync/idsync/services/idsync"
)

// TestDeprovisioningEndToEnd runs the whole system (gateway, bus, the four
// sync consumers) against the demo's provider fakes and deletes bob in Okta:
// he must leave the Console company, be blocked in GitLab and leave the
// GitHub organization, and every decision must be recorded as an outcome.
func TestDeprovisioningEndToEnd(t *testing.T) {
	dataDir := t.TempDir()
	p := start(t, map[string]string{
		"IDSYNC_DATA_DIR": dataDir, "IDSYNC_HTTP_ADDR": "127.0.0.1:0", "IDSYNC_NATS_LISTEN": "127.0.0.1:0",
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
	bobsHistory(t, p, dataDir)
}

// bobsHistory asks the event log what happened to bob — through the API
// with the generated credentials and through `idsync events` — then
// forgets him.
func bobsHistory(t *testing.T, p *process, dataDir string) {
	t.Helper()
	m := regexp.MustCompile(`events API user\s+admin / (\S+)`).FindStringSubmatch(p.stdout.String())
	if m == nil {
		t.Fatalf("no generated events API password in the banner:\n%s", p.stdout.String())
	}
	auth := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("admin:"+m[1]))}}
	wantTypes := []string{"okta.UserDeletedEvent", "console.CompanyUserRemovedEvent", "github.OrganizationMemberRemovedEvent", "gitlab.UserBlockedEvent"}
	var rs struct {
		ResultSet []struct {
			EventType      string `json:"event_type"`
			EventAgentUser string `json:"event_agent_user"`
			Reason         string `json:"reason"`
		} `json:"resultSet"`
		Pagination struct {
			TotalResults int `json:"totalResults"`
		} `json:"pagination"`
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if st := getJSON(t, p.httpURL+"/api/events?limit=100&offset=0&userId=bob@example.com", auth, &rs); st != 200 {
			t.Fatalf("events API: %d", st)
		}
		var types []string
		for _, r := range rs.ResultSet {
			types = append(types, r.EventType)
		}
		missing := slices.DeleteFunc(slices.Clone(wantTypes), func(w string) bool { return slices.Contains(types, w) })
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("bob's history lacks %v: %v", missing, types)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st := getJSON(t, p.httpURL+"/api/events?limit=100&offset=0&userId=bob@example.com", nil, nil); st != 401 {
		t.Errorf("events API without credentials: %d, want 401", st)
	}

	env := map[string]string{"IDSYNC_DATA_DIR": dataDir, "IDSYNC_NATS_URL": p.natsURL}
	out, err := runCLI(t, env, "events", "--user", "bob@example.com")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range append(wantTypes, "OCCURRED (UTC)", "admin@example.com", "gitlab-sync") {
		if !strings.Contains(out, w) {
			t.Errorf("idsync events lacks %q:\n%s", w, out)
		}
	}
	if out, err := runCLI(t, env, "events", "--user", "bob@example.com", "--limit", "0"); err == nil || !strings.Contains(err.Error(), "4002") {
		t.Errorf("--limit 0: %v %s", err, out)
	}

	// Forget bob: first the plan, then the erasure.
	plan, err := runCLI(t, env, "events", "forget", "--user", "bob@example.com", "--by", "dpo@example.com", "--reason", "GDPR-7")
	if err != nil || !strings.Contains(plan, "00ubob") || !strings.Contains(plan, "--yes") {
		t.Fatalf("forget without --yes: %v\n%s", err, plan)
	}
	if st := getJSON(t, p.httpURL+"/api/events?limit=100&offset=0&userId=bob@example.com", auth, &rs); st != 200 || rs.Pagination.TotalResults == 0 {
		t.Fatal("the plan erased something")
	}
	done, err := runCLI(t, env, "events", "forget", "--user", "bob@example.com", "--by", "dpo@example.com", "--reason", "GDPR-7", "--yes")
	if err != nil || !strings.Contains(done, "forgot") {
		t.Fatalf("forget --yes: %v\n%s", err, done)
	}
	for _, id := range []string{"bob@example.com", "00ubob"} {
		if st := getJSON(t, p.httpURL+"/api/events?limit=100&offset=0&userId="+id, auth, &rs); st != 200 || rs.Pagination.TotalResults != 0 {
			t.Errorf("%s still has %d records after the erasure", id, rs.Pagination.TotalResults)
		}
	}
	getJSON(t, p.httpURL+"/api/events?limit=10&offset=0&actor=dpo@example.com&type=idsync.PersonForgottenEvent", auth, &rs)
	if len(rs.ResultSet) != 1 || !strings.Contains(rs.ResultSet[0].Reason, "GDPR-7") || strings.Contains(rs.ResultSet[0].Reason, "bob") {
		t.Errorf("the erasure is not recorded as it should be: %+v", rs.ResultSet)
	}
}

// runCLI runs an idsync command with env as its whole environment.
func runCLI(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := idsync.Run(context.Background(), args, func(k string) string { return env[k] }, &out, &errOut)
	return out.String() + errOut.String(), err
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
