package idsync_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/syncsvc/synctest"
)

func cli(t *testing.T, natsURL string, args ...string) (string, error) {
	t.Helper()
	return runCLI(t, map[string]string{"IDSYNC_NATS_URL": natsURL}, args...)
}

func TestOperatorCommands(t *testing.T) {
	p := start(t, map[string]string{
		"IDSYNC_DATA_DIR": t.TempDir(), "IDSYNC_HTTP_ADDR": "127.0.0.1:0", "IDSYNC_NATS_LISTEN": "127.0.0.1:0",
		"IDSYNC_OKTA_HOOK_SECRET": oktaSecret, "IDSYNC_CONSOLE_WEBHOOK_SECRET": consoleSecret,
	})
	waitReady(t, p.httpURL)

	// A dead letter as a consumer writes it.
	nc, err := nats.Connect(p.natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ev := synctest.OktaUserEvent(events.OktaDeleteUser, "dead-1", "00u9", "zoe@example.com")
	m, err := events.Encode(events.DefaultNamespace, ev)
	if err != nil {
		t.Fatal(err)
	}
	original := m.Subject
	m.Subject = events.DefaultNamespace.DLQSubject("gitlab-sync")
	m.Header.Set(bus.HeaderDLQConsumer, "gitlab-sync")
	m.Header.Set(bus.HeaderDLQSubject, original)
	m.Header.Set(bus.HeaderDLQClass, "permanent")
	m.Header.Set(bus.HeaderDLQReason, "gitlab POST /users: 403 Forbidden")
	m.Header.Set(bus.HeaderDLQDelivered, "1")
	m.Header.Set(bus.HeaderDLQTime, time.Now().UTC().Format(time.RFC3339Nano))
	m.Header.Set(nats.MsgIdHdr, "dlq:test")
	if _, err := js.PublishMsg(context.Background(), m); err != nil {
		t.Fatal(err)
	}

	out, err := cli(t, p.natsURL, "dlq", "list", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var letters []struct {
		Seq      uint64 `json:"seq"`
		Consumer string `json:"consumer"`
		EventID  string `json:"event_id"`
		Reason   string `json:"reason"`
	}
	if err := json.Unmarshal([]byte(out), &letters); err != nil || len(letters) != 1 || letters[0].EventID != "dead-1" || letters[0].Consumer != "gitlab-sync" {
		t.Fatalf("dlq list: %s (%v)", out, err)
	}
	if out, err := cli(t, p.natsURL, "dlq", "list", "--consumer", "okta-sync"); err != nil || strings.Contains(out, "dead-1") {
		t.Fatalf("filter by consumer: %s %v", out, err)
	}
	if out, err := cli(t, p.natsURL, "dlq", "show", "--seq", "1"); err != nil || !strings.Contains(out, "403 Forbidden") || !strings.Contains(out, "zoe@example.com") {
		t.Fatalf("dlq show: %s %v", out, err)
	}
	if _, err := cli(t, p.natsURL, "dlq", "purge"); err == nil {
		t.Fatal("purge without a selection was accepted")
	}
	before := streamMsgs(t, js, "IDSYNC_EVENTS")
	if out, err := cli(t, p.natsURL, "dlq", "replay", "--seq", "1", "--json"); err != nil || !strings.Contains(out, `"replayed": 1`) {
		t.Fatalf("dlq replay: %s %v", out, err)
	}
	if after := streamMsgs(t, js, "IDSYNC_EVENTS"); after != before+1 {
		t.Fatalf("events stream %d → %d, want one replayed event", before, after)
	}
	if out, _ := cli(t, p.natsURL, "dlq", "list", "--json"); strings.TrimSpace(out) != "[]" {
		t.Fatalf("dead letter still listed after replay: %s", out)
	}

	if _, err := cli(t, p.natsURL, "identities", "set", "--email", "Zoe@Example.com", "--login", "zoe-gh"); err != nil {
		t.Fatal(err)
	}
	if out, err := cli(t, p.natsURL, "identities", "list"); err != nil || !strings.Contains(out, "zoe-gh") {
		t.Fatalf("identities list: %s %v", out, err)
	}
	if out, err := cli(t, p.natsURL, "guard", "status"); err != nil || !strings.Contains(out, "gitlab-sync") || !strings.Contains(out, "running") {
		t.Fatalf("guard status: %s %v", out, err)
	}
	if _, err := cli(t, p.natsURL, "guard", "resume", "--consumer", "nobody"); err == nil {
		t.Fatal("resume of an unknown consumer accepted")
	}
}

func streamMsgs(t *testing.T, js jetstream.JetStream, name string) uint64 {
	t.Helper()
	s, err := js.Stream(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}
