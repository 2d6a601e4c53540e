package idsync_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/idsync/idsync/pkg/consolehook"
	"github.com/idsync/idsync/pkg/testdata"
	"github.com/idsync/idsync/services/idsync"
)

// syncBuffer is an io.Writer safe to read while run writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type process struct {
	stdout, stderr *syncBuffer
	cancel         context.CancelFunc
	done           chan error
	httpURL        string
	natsURL        string
}

// start runs the all-in-one as `idsync run` would, and waits for its banner.
func start(t *testing.T, env map[string]string, args ...string) *process {
	t.Helper()
	return startIn(context.Background(), t, env, args...)
}

// startIn is start with run's context derived from base (which may carry a
// tracer provider).
func startIn(base context.Context, t *testing.T, env map[string]string, args ...string) *process {
	t.Helper()
	getenv := func(k string) string { return env[k] }
	ctx, cancel := context.WithCancel(base)
	p := &process{stdout: &syncBuffer{}, stderr: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	go func() { p.done <- idsync.Run(ctx, append([]string{"run"}, args...), getenv, p.stdout, p.stderr) }()
	httpRe := regexp.MustCompile(`HTTP\s+(http://\S+)`)
	natsRe := regexp.MustCompile(`embedded, (nats://\S+)`)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if m := httpRe.FindStringSubmatch(p.stdout.String()); m != nil {
			p.httpURL = m[1]
			if n := natsRe.FindStringSubmatch(p.stdout.String()); n != nil {
				p.natsURL = n[1]
			}
			break
		}
		select {
		case err := <-p.done:
			t.Fatalf("run returned before it was ready: %v\nstderr: %s", err, p.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no banner; stdout: %s\nstderr: %s", p.stdout.String(), p.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() { p.stop(t) })
	return p
}

// stop cancels run (as SIGINT does) and requires a clean exit.
func (p *process) stop(t *testing.T) {
	t.Helper()
	if p.cancel == nil {
		return
	}
	p.cancel()
	p.cancel = nil
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("run returned %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return after cancellation")
	}
}

func post(t *testing.T, url string, header http.Header, body []byte) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

const (
	oktaSecret    = "whole-process-okta-secret-0123"
	consoleSecret = "whole-process-console-secret-0123"
)

func TestWholeProcess(t *testing.T) {
	dataDir := t.TempDir()
	env := map[string]string{
		"IDSYNC_DATA_DIR":               dataDir,
		"IDSYNC_HTTP_ADDR":              "127.0.0.1:0",
		"IDSYNC_NATS_LISTEN":            "127.0.0.1:0",
		"IDSYNC_OKTA_HOOK_SECRET":       oktaSecret,
		"IDSYNC_CONSOLE_WEBHOOK_SECRET": consoleSecret,
	}
	p := start(t, env)
	if p.natsURL == "" {
		t.Fatalf("banner names no NATS URL: %s", p.stdout.String())
	}
	waitReady(t, p.httpURL)

	console := testdata.Console("company_user_added")
	status, body := post(t, p.httpURL+"/console/events", http.Header{
		consolehook.HeaderSignature: {consolehook.Sign(console, consoleSecret)}, "Content-Type": {"application/json"},
	}, console)
	if status != 200 {
		t.Fatalf("console webhook: %d %s", status, body)
	}
	okta := testdata.Okta("event-hook.user-lifecycle-deactivate")
	okta = bytes.Replace(okta, []byte(`"user.lifecycle.deactivate"`), []byte(`"user.lifecycle.delete.initiated"`), 1)
	status, body = post(t, p.httpURL+"/okta/events", http.Header{"Authorization": {oktaSecret}, "Content-Type": {"application/json"}}, okta)
	if status != 200 || !strings.Contains(body, `"published":1`) {
		t.Fatalf("okta hook: %d %s", status, body)
	}

	// Another system reads them back over the embedded server's listener.
	got := readStream(t, p.natsURL, "IDSYNC_EVENTS")
	want := []string{"idsync.events.console.update.user.permission", "idsync.events.okta.delete.user"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("stream subjects %v, want %v", got, want)
	}
	p.stop(t)
	if strings.Contains(p.stderr.String(), oktaSecret) || strings.Contains(p.stderr.String(), consoleSecret) {
		t.Fatal("a secret appears in the logs")
	}
	if strings.Contains(p.stdout.String(), oktaSecret) {
		t.Fatal("a configured (not generated) secret was printed")
	}

	// A restart keeps the stream.
	p2 := start(t, env)
	waitReady(t, p2.httpURL)
	if got := readStream(t, p2.natsURL, "IDSYNC_EVENTS"); len(got) != 2 {
		t.Fatalf("after restart the stream holds %v", got)
	}
}

func TestGeneratedSecretsSurviveRestart(t *testing.T) {
	dataDir := t.TempDir()
	env := map[string]string{"IDSYNC_DATA_DIR": dataDir, "IDSYNC_HTTP_ADDR": "127.0.0.1:0", "IDSYNC_NATS_LISTEN": "off"}
	p := start(t, env)
	secretRe := regexp.MustCompile(`Okta secret\s+(\S+)\s+\(generated`)
	m := secretRe.FindStringSubmatch(p.stdout.String())
	if m == nil {
		t.Fatalf("no generated Okta secret printed: %s", p.stdout.String())
	}
	waitReady(t, p.httpURL)
	batch := bytes.Replace(testdata.Okta("event-hook.user-lifecycle-deactivate"), []byte(`"user.lifecycle.deactivate"`), []byte(`"user.lifecycle.delete.initiated"`), 1)
	if st, b := post(t, p.httpURL+"/okta/events", http.Header{"Authorization": {m[1]}}, batch); st != 200 {
		t.Fatalf("with the printed secret: %d %s", st, b)
	}
	apiRe := regexp.MustCompile(`events API user\s+admin / (\S+)`)
	api := apiRe.FindStringSubmatch(p.stdout.String())
	if api == nil {
		t.Fatalf("no generated events API password printed: %s", p.stdout.String())
	}
	// What gitlab-sync did with the delivery reaches the event log. (The
	// delivery itself, an Okta sample from 2020, is older than the
	// retention and purged.)
	auth := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("admin:"+api[1]))}}
	byGitLab := func(base string) (int, int) {
		var rs struct {
			Pagination struct{ TotalResults int } `json:"pagination"`
		}
		st := getJSON(t, base+"/api/events?limit=10&offset=0&actor=gitlab-sync", auth, &rs)
		return st, rs.Pagination.TotalResults
	}
	var recorded int
	for deadline := time.Now().Add(30 * time.Second); recorded == 0; time.Sleep(50 * time.Millisecond) {
		var st int
		if st, recorded = byGitLab(p.httpURL); time.Now().After(deadline) {
			t.Fatalf("gitlab-sync's outcome never reached the event log: status %d", st)
		}
	}
	p.stop(t)
	info, err := os.Stat(filepath.Join(dataDir, "secrets.json"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("secrets file: %v mode %v", err, info)
	}
	p2 := start(t, env)
	if m2 := secretRe.FindStringSubmatch(p2.stdout.String()); m2 == nil || m2[1] != m[1] {
		t.Fatalf("the secret changed across restarts")
	}
	if api2 := apiRe.FindStringSubmatch(p2.stdout.String()); api2 == nil || api2[1] != api[1] {
		t.Fatalf("the events API password changed across restarts")
	}
	// The event log keeps it across the restart, and the password works.
	waitReady(t, p2.httpURL)
	// (≥: gitlab-sync may still have been recording when the count was read.)
	if st, n := byGitLab(p2.httpURL); st != 200 || n < recorded {
		t.Fatalf("after the restart: status %d, %d records by gitlab-sync, want 200 and at least %d", st, n, recorded)
	}
	if !strings.Contains(p2.stdout.String(), "in-process only") {
		t.Fatalf("IDSYNC_NATS_LISTEN=off not reported: %s", p2.stdout.String())
	}
}

func TestExplicitNATSListenTakenRefusesToStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	env := map[string]string{"IDSYNC_DATA_DIR": t.TempDir(), "IDSYNC_HTTP_ADDR": "127.0.0.1:0", "IDSYNC_NATS_LISTEN": ln.Addr().String()}
	err = idsync.Run(context.Background(), []string{"run"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "IDSYNC_NATS_LISTEN") {
		t.Fatalf("err = %v, want a refusal naming IDSYNC_NATS_LISTEN", err)
	}
}

func TestInvalidConfigurationReportsEveryProblem(t *testing.T) {
	env := map[string]string{
		"IDSYNC_DATA_DIR": t.TempDir(), "IDSYNC_HTTP_ADDR": "nonsense", "IDSYNC_STREAM_MAX_AGE": "soon",
		"IDSYNC_MAX_BODY_BYTES": "12XB", "IDSYNC_OKTA_HOOK_SECRET": "short",
	}
	err := idsync.Run(context.Background(), []string{"run"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
	if err == nil {
		t.Fatal("started with a broken configuration")
	}
	for _, v := range []string{"IDSYNC_STREAM_MAX_AGE", "IDSYNC_MAX_BODY_BYTES"} {
		if !strings.Contains(err.Error(), v) {
			t.Errorf("error does not name %s: %v", v, err)
		}
	}
}

func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never became ready", base)
}

func readStream(t *testing.T, url, stream string) []string {
	t.Helper()
	nc, err := nats.Connect(url)
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
	info, _ := s.Info(ctx)
	var out []string
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m.Subject)
	}
	return out
}
