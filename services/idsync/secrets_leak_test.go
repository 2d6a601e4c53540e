package idsync_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/crypto/bcrypt"

	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/consolefake"
	"github.com/idsync/idsync/pkg/consolehook"
	"github.com/idsync/idsync/pkg/githubfake"
	"github.com/idsync/idsync/pkg/gitlabfake"
	"github.com/idsync/idsync/pkg/oktafake"
	"github.com/idsync/idsync/pkg/testdata"
	"github.com/idsync/idsync/services/idsync"
)

// Distinctive values for every secret the all-in-one reads. Demo mode
// overwrites the provider credentials with its own, so this test starts the
// provider fakes itself with these values and points a normal (non-demo)
// configuration at them: every secret is then really used.
const (
	leakOktaHookA    = "LEAK-okta-hook-secret-AAAA1111"
	leakOktaHookB    = "LEAK-okta-hook-secret-BBBB2222"
	leakConsoleHookA = "LEAK-console-webhook-secret-CCCC3333"
	leakConsoleHookB = "LEAK-console-webhook-secret-DDDD4444"
	leakConsoleID    = "leak-console-client"
	leakConsoleSec   = "LEAK-console-client-secret-EEEE5555"
	leakOktaToken    = "LEAK-okta-api-token-FFFF6666"
	leakGitLabToken  = "LEAK-gitlab-token-GGGG7777"
	leakGitHubToken  = "LEAK-github-token-HHHH8888"
	leakNATSUser     = "leak-nats-user"
	leakNATSPassword = "LEAK-nats-password-IIII9999"
	leakAPIUser      = "auditor"
	leakAPIPassword  = "LEAK-api-password-JJJJ0000"
	leakWrongSecret  = "LEAK-wrong-secret-KKKK1234"
)

// leakSource is one place a secret could end up.
type leakSource struct {
	name, text string
}

func TestSecretsLeakNowhere(t *testing.T) {
	dataDir := t.TempDir()
	hash, err := bcrypt.GenerateFromPassword([]byte(leakAPIPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	// The DSN names an SQLite file; its path is shown by design (it is
	// the "database" the README says logs may show), so only the whole
	// DSN string is checked. A PostgreSQL password cannot be exercised here.
	dsn := "sqlite://" + filepath.Join(dataDir, "leak-eventlog.db")

	// secrets: every config.Secret(s) variable, the value given, and the
	// strings that must never appear (the value, its parts, derived forms).
	secrets := []struct {
		env   string
		value string
		never []string
	}{
		{"IDSYNC_OKTA_HOOK_SECRET", leakOktaHookA + "," + leakOktaHookB, []string{leakOktaHookA, leakOktaHookB}},
		{"IDSYNC_CONSOLE_WEBHOOK_SECRET", leakConsoleHookA + "," + leakConsoleHookB, []string{leakConsoleHookA, leakConsoleHookB}},
		{"IDSYNC_CONSOLE_CLIENT_SECRET", leakConsoleSec, []string{leakConsoleSec, basicAuth(leakConsoleID, leakConsoleSec)}},
		{"IDSYNC_OKTA_API_TOKEN", leakOktaToken, []string{leakOktaToken}},
		{"IDSYNC_GITLAB_TOKEN", leakGitLabToken, []string{leakGitLabToken}},
		{"IDSYNC_GITHUB_TOKEN", leakGitHubToken, []string{leakGitHubToken}},
		{"IDSYNC_NATS_PASSWORD", leakNATSPassword, []string{leakNATSPassword}},
		{"IDSYNC_EVENTLOG_DSN", dsn, []string{dsn}},
		{"IDSYNC_API_USERS", leakAPIUser + ":" + string(hash), []string{string(hash), string(hash[7:]), leakAPIPassword, basicAuth(leakAPIUser, leakAPIPassword)}},
	}

	// The list above must cover every secret of the all-in-one's Config.
	fields, err := config.Fields(&idsync.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var want, have []string
	for _, f := range fields {
		if f.Secret {
			want = append(want, f.Env)
		}
	}
	for _, s := range secrets {
		have = append(have, s.env)
	}
	sort.Strings(want)
	sort.Strings(have)
	if !slices.Equal(want, have) {
		t.Fatalf("the all-in-one's secret variables are %v, this test sets %v: add the new one", want, have)
	}

	urls := startLeakFakes(t)
	identities := filepath.Join(t.TempDir(), "identities.csv")
	if err := os.WriteFile(identities, []byte("email,login\nalice@example.com,alice-gh\nbob@example.com,bob-gh\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"IDSYNC_DATA_DIR": dataDir, "IDSYNC_HTTP_ADDR": "127.0.0.1:0", "IDSYNC_NATS_LISTEN": "127.0.0.1:0",
		"IDSYNC_LOG_LEVEL": "debug", "IDSYNC_CONSUMER_LAG_INTERVAL": "1s",
		"IDSYNC_NATS_USER":             leakNATSUser,
		"IDSYNC_ALLOWED_EMAIL_DOMAINS": "example.com",
		"IDSYNC_CONSOLE_URL":           urls["console"], "IDSYNC_CONSOLE_CLIENT_ID": leakConsoleID,
		"IDSYNC_OKTA_ORG_URL": urls["okta"], "IDSYNC_GITLAB_URL": urls["gitlab"], "IDSYNC_GITHUB_API_URL": urls["github"],
		"IDSYNC_GITHUB_IDENTITY_FILE": identities,
		"IDSYNC_CONSOLE_COMPANY_ID":   "acme", "IDSYNC_GITHUB_ORG": "acme", "IDSYNC_GITLAB_ROOT_GROUP": "acme",
	}
	for _, s := range secrets {
		env[s.env] = s.value
	}
	p := start(t, env)
	waitReady(t, p.httpURL)
	if strings.Contains(p.stdout.String(), "dry-run") {
		t.Fatalf("a consumer runs in dry-run, so its credentials are not used:\n%s", p.stdout.String())
	}

	var sources []leakSource
	record := func(name string, status int, body string) {
		sources = append(sources, leakSource{fmt.Sprintf("%s (HTTP %d)", name, status), body})
	}
	okta := func(secret string) http.Header {
		return http.Header{"Authorization": {secret}, "Content-Type": {"application/json"}}
	}
	console := func(body []byte, secret string) http.Header {
		return http.Header{consolehook.HeaderSignature: {consolehook.Sign(body, secret)}, "Content-Type": {"application/json"}}
	}
	del := []byte(`{"eventType":"com.okta.event_hook","source":"https://example.okta.com/api/v1/eventHooks/who1","eventId":"leak-1",
	 "data":{"events":[{"uuid":"leak-del-bob","published":"2026-11-23T10:00:00.000Z","eventType":"user.lifecycle.delete.initiated",
	  "actor":{"id":"00uadmin","type":"User","alternateId":"admin@example.com","displayName":"Admin"},
	  "target":[{"id":"00ubob","type":"User","alternateId":"bob@example.com","displayName":"Bob"}]}]}}`)
	grant := []byte(`{"eventName":"company_user_added","eventTimestamp":1718611200000,
	 "payload":{"userId":"carol","email":"carol@example.com","roleId":"developer","resource":{"companyId":"acme"}}}`)

	deliveries := []struct {
		name   string
		path   string
		header http.Header
		body   []byte
		status int
	}{
		{"okta delete, first secret", "/okta/events", okta(leakOktaHookA), del, 200},
		{"okta delete again, second secret", "/okta/delete/user", okta(leakOktaHookB), del, 200},
		{"console grant, first secret", "/console/events", console(grant, leakConsoleHookA), grant, 200},
		{"console grant, second secret", "/console/events", console(grant, leakConsoleHookB), grant, 200},
		{"inline hook", "/okta/verify/email", okta(leakOktaHookA), testdata.Okta("registration-hook-ssr-request"), 200},
		{"okta, wrong secret", "/okta/events", okta(leakWrongSecret), del, 401},
		{"okta, secret with a suffix", "/okta/events", okta(leakOktaHookA + "x"), del, 401},
		{"okta, the console secret", "/okta/events", okta(leakConsoleHookA), del, 401},
		{"okta, header twice", "/okta/events", http.Header{"Authorization": {leakOktaHookA, leakOktaHookB}}, del, 401},
		{"console, wrong secret", "/console/events", console(grant, leakWrongSecret), grant, 401},
		{"console, the okta secret", "/console/events", console(grant, leakOktaHookA), grant, 401},
		{"console, the secret as signature", "/console/events", http.Header{consolehook.HeaderSignature: {leakConsoleHookA}}, grant, 401},
		{"inline hook, wrong secret", "/okta/verify/email", okta(leakWrongSecret), testdata.Okta("registration-hook-ssr-request"), 401},
		{"okta, malformed body", "/okta/events", okta(leakOktaHookA), []byte(`{"eventType":`), 400},
		{"console, unknown event", "/console/events", console([]byte(`{"eventName":"nope","eventTimestamp":1,"payload":{}}`), leakConsoleHookA), []byte(`{"eventName":"nope","eventTimestamp":1,"payload":{}}`), 422},
	}
	for _, d := range deliveries {
		st, body := post(t, p.httpURL+d.path, d.header, d.body)
		if st != d.status {
			t.Errorf("%s: %d %s, want %d", d.name, st, body, d.status)
		}
		record(d.name, st, body)
	}

	// Something dead-lettered: a poison message straight on the bus.
	nc := leakNATS(t, p.natsURL)
	if err := nc.Publish("idsync.events.okta.delete.user", []byte("poison "+leakWrongSecret)); err != nil {
		t.Fatal(err)
	}
	_ = nc.Flush()

	// Wait until every provider was called (every token was used), and the
	// dead letter and the records arrived.
	waitFor := []*regexp.Regexp{
		regexp.MustCompile(`(?m)^idsync_provider_requests_total\{.*provider="okta".*\} [1-9]`),
		regexp.MustCompile(`(?m)^idsync_provider_requests_total\{.*provider="gitlab".*\} [1-9]`),
		regexp.MustCompile(`(?m)^idsync_provider_requests_total\{.*provider="github".*\} [1-9]`),
		regexp.MustCompile(`(?m)^idsync_provider_requests_total\{.*provider="console".*\} [1-9]`),
		regexp.MustCompile(`(?m)^idsync_consumer_dead_lettered_total\{`),
		regexp.MustCompile(`(?m)^idsync_eventlog_records_total\{`),
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		text := scrape(t, p.httpURL+"/metrics")
		missing := slices.DeleteFunc(slices.Clone(waitFor), func(re *regexp.Regexp) bool { return re.MatchString(text) })
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the traffic did not reach every provider: /metrics lacks %v", missing)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The events API, with the right and with wrong credentials.
	api := func(q string) string { return p.httpURL + "/api/events?limit=100&offset=0&" + q }
	queries := []string{"userId=bob@example.com", "userId=carol@example.com", "userId=00ubob", "actor=admin@example.com", "actor=okta-sync", "actor=gitlab-sync", "actor=github-sync", "actor=console-sync"}
	deadline = time.Now().Add(10 * time.Second)
	for {
		body, st := get(t, api("userId=bob@example.com"), basicHeader(leakAPIUser, leakAPIPassword))
		if st != 200 {
			t.Fatalf("events API with the right password: %d %s", st, body)
		}
		if strings.Contains(body, "gitlab.UserBlockedEvent") || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, q := range queries {
		body, st := get(t, api(q), basicHeader(leakAPIUser, leakAPIPassword))
		if st != 200 {
			t.Errorf("events API %s: %d %s", q, st, body)
		}
		record("events API "+q, st, body)
	}
	for _, c := range []struct {
		name   string
		header http.Header
	}{
		{"wrong password", basicHeader(leakAPIUser, leakWrongSecret)},
		{"the hash as password", basicHeader(leakAPIUser, string(hash))},
		{"unknown user, right password", basicHeader("nobody", leakAPIPassword)},
		{"a hook secret as bearer", http.Header{"Authorization": {"Bearer " + leakOktaHookA}}},
		{"no credentials", nil},
	} {
		body, st := get(t, api("userId=bob@example.com"), c.header)
		if st != 401 {
			t.Errorf("events API, %s: %d, want 401", c.name, st)
		}
		record("events API, "+c.name, st, body)
	}

	sources = append(sources, leakSource{"/metrics", scrape(t, p.httpURL+"/metrics")})
	sources = append(sources, streamContents(t, nc)...)
	nc.Close()

	p.stop(t)
	sources = append(sources, leakSource{"stdout", p.stdout.String()}, leakSource{"stderr", p.stderr.String()})
	// Everything the process left on disk: the JetStream store, the event
	// log (SQLite, WAL), anything else.
	_ = filepath.WalkDir(dataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dataDir, path)
		sources = append(sources, leakSource{"file " + rel, string(b)})
		return nil
	})

	if len(sources) < 30 {
		t.Fatalf("only %d places were read", len(sources))
	}
	// The places read hold the traffic in plain text, so a secret in them
	// would be found.
	for _, w := range []struct{ source, text string }{
		{"file leak-eventlog.db", "gitlab.UserBlockedEvent"},
		{"stream IDSYNC_EVENTS", "carol@example.com"},
		{"stream IDSYNC_OUTCOMES", "bob@example.com"},
		{"stream IDSYNC_DLQ", "poison"},
		{"stderr", "auth_invalid"},
	} {
		if !slices.ContainsFunc(sources, func(s leakSource) bool {
			return strings.HasPrefix(s.name, w.source) && strings.Contains(s.text, w.text)
		}) {
			t.Errorf("%s does not hold %q: the check would not see a leak there", w.source, w.text)
		}
	}
	for _, s := range secrets {
		for _, never := range s.never {
			for _, src := range sources {
				if i := strings.Index(src.text, never); i >= 0 {
					t.Errorf("%s: %s leaks in %s: …%s…", s.env, shorten(never), src.name, excerpt(src.text, i, len(never)))
				}
			}
		}
	}
	// The wrong secrets offered are not echoed either.
	for _, src := range sources {
		if strings.HasPrefix(src.name, "file ") || strings.Contains(src.name, "stream") {
			continue // the poison message carries it on purpose
		}
		if i := strings.Index(src.text, leakWrongSecret); i >= 0 {
			t.Errorf("a wrong secret offered is echoed in %s: …%s…", src.name, excerpt(src.text, i, len(leakWrongSecret)))
		}
	}
}

// startLeakFakes runs the four provider fakes, accepting only this test's
// credentials, with the demo's small organisation.
func startLeakFakes(t *testing.T) map[string]string {
	t.Helper()
	urls := map[string]string{}
	serve := func(name string, h http.Handler) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { _ = srv.Close() })
		urls[name] = "http://" + ln.Addr().String()
		return urls[name]
	}
	cf := consolefake.New()
	cf.AddServiceAccount(leakConsoleID, leakConsoleSec)
	cf.AddProject("acme", "payments", "Payments", consolefake.Environment{EnvID: "dev", Label: "Development"})
	for _, u := range []string{"alice", "bob", "carol"} {
		cf.AddPlatformUser(u, u+"@example.com")
	}
	cf.BindCompany("acme", "alice", "guest")
	cf.BindCompany("acme", "bob", "guest")
	serve("console", cf.Handler())

	of := oktafake.New(leakOktaToken)
	for _, u := range []string{"alice", "bob", "carol"} {
		of.AddUser(u+"@example.com", u, "Example")
	}
	for _, g := range []string{"console-acme", "console-acme-payments"} {
		of.AddGroup(g)
	}
	of.SetBaseURL(serve("okta", of.Handler()))

	gl := gitlabfake.New(leakGitLabToken)
	gl.AddGroup("acme")
	gl.AddUser(gitlabfake.User{Username: "alice", Email: "alice@example.com", Name: "Alice"})
	gl.AddUser(gitlabfake.User{Username: "bob", Email: "bob@example.com", Name: "Bob"})
	serve("gitlab", gl.Handler())

	gh := githubfake.New()
	gh.AddToken(leakGitHubToken)
	gh.AddOrg("acme")
	gh.AddUser("alice-gh", "alice@example.com")
	gh.AddUser("bob-gh", "bob@example.com")
	gh.SetMember("acme", "alice-gh", "member")
	gh.SetMember("acme", "bob-gh", "member")
	urls["github"] = serve("github", gh.Handler()) + gh.BasePath()
	return urls
}

// leakNATS connects to the embedded server's listener as another system
// would (with the configured user, which the embedded server ignores).
func leakNATS(t *testing.T, url string) *nats.Conn {
	t.Helper()
	if url == "" {
		t.Fatal("the banner names no NATS URL")
	}
	nc, err := nats.Connect(url, nats.UserInfo(leakNATSUser, leakNATSPassword))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// streamContents reads every message (subject, headers, data) of every
// stream of the embedded server: IDSYNC_EVENTS, OUTCOMES, DLQ and the KV
// buckets.
func streamContents(t *testing.T, nc *nats.Conn) []leakSource {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []leakSource
	seen := map[string]bool{}
	names := js.StreamNames(ctx)
	for name := range names.Name() {
		s, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		seen[name] = true
		var b strings.Builder
		for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
			m, err := s.GetMsg(ctx, seq)
			if err != nil {
				continue // deleted
			}
			fmt.Fprintf(&b, "%s %v\n%s\n", m.Subject, m.Header, m.Data)
		}
		out = append(out, leakSource{fmt.Sprintf("stream %s (%d messages)", name, info.State.Msgs), b.String()})
	}
	if err := names.Err(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"IDSYNC_EVENTS", "IDSYNC_OUTCOMES", "IDSYNC_DLQ"} {
		if !seen[want] {
			t.Errorf("stream %s not found (streams: %v)", want, seen)
		}
	}
	for _, src := range out {
		if strings.HasPrefix(src.name, "stream IDSYNC_DLQ ") && strings.Contains(src.name, "(0 messages)") {
			t.Error("nothing was dead-lettered")
		}
	}
	return out
}

func get(t *testing.T, url string, header http.Header) (string, int) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var h bytes.Buffer
	_ = resp.Header.Write(&h)
	return h.String() + "\n" + string(b), resp.StatusCode
}

func basicAuth(user, password string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
}

func basicHeader(user, password string) http.Header {
	return http.Header{"Authorization": {"Basic " + basicAuth(user, password)}}
}

func shorten(s string) string {
	if len(s) > 24 {
		return s[:24] + "…"
	}
	return s
}

func excerpt(s string, i, n int) string {
	lo, hi := max(0, i-80), min(len(s), i+n+80)
	return s[lo:hi]
}
