package idsync_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/reconcile"
)

// The all-in-one runs every sync consumer through syncsvc.Start, so each
// answers reconciliation requests: `idsync reconcile` against the demo gets
// one report per provider, and each is stored as an event.
func TestAllInOneReconciles(t *testing.T) {
	p := start(t, map[string]string{
		"IDSYNC_DATA_DIR": t.TempDir(), "IDSYNC_HTTP_ADDR": "127.0.0.1:0", "IDSYNC_NATS_LISTEN": "127.0.0.1:0",
		"IDSYNC_OKTA_HOOK_SECRET": oktaSecret, "IDSYNC_CONSOLE_WEBHOOK_SECRET": consoleSecret, "IDSYNC_DEMO": "true",
	})
	waitReady(t, p.httpURL)
	out, err := runCLI(t, map[string]string{"IDSYNC_NATS_URL": p.natsURL}, "reconcile", "--json", "--timeout", "2m")
	var got struct {
		Reports []reconcile.Report `json:"reports"`
		Errors  []struct {
			Provider, Code, Message string
		} `json:"errors"`
	}
	if jerr := json.Unmarshal([]byte(out), &got); jerr != nil {
		t.Fatalf("reconcile --json: %v (%v)\n%s", jerr, err, out)
	}
	for _, e := range got.Errors {
		t.Errorf("%s: %s %s", e.Provider, e.Code, e.Message)
	}
	byProvider := map[string]reconcile.Report{}
	for _, r := range got.Reports {
		byProvider[r.Provider] = r
	}
	for _, provider := range events.Providers {
		r, ok := byProvider[provider]
		if !ok {
			t.Errorf("no report from %s-sync", provider)
			continue
		}
		if r.Consumer != provider+"-sync" || r.Trigger != reconcile.TriggerRequest || r.Apply {
			t.Errorf("%s: report %s by %s, trigger %s, apply %v", provider, r.ID, r.Consumer, r.Trigger, r.Apply)
		}
		if !reportStored(t, p.natsURL, r.ID) {
			t.Errorf("%s: report %s is not on the events stream", provider, r.ID)
		}
	}

	// idsync status shows each provider's last run, and how far the System
	// Log backfill (running against the demo's Okta fake) has read.
	var st struct {
		Providers []struct {
			Provider   string             `json:"provider"`
			Reconciled *reconcile.LastRun `json:"reconciled"`
		} `json:"providers"`
		Backfill []struct {
			Org        string    `json:"org"`
			ReadUpTo   time.Time `json:"read_up_to"`
			LagSeconds float64   `json:"lag_seconds"`
		} `json:"backfill"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := cli(t, p.natsURL, "status", "--json")
		if err != nil || json.Unmarshal([]byte(out), &st) != nil {
			t.Fatalf("status --json: %v\n%s", err, out)
		}
		if len(st.Backfill) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond) // polling for the backfill's first cursor
	}
	for _, pr := range st.Providers {
		r := byProvider[pr.Provider]
		if pr.Reconciled == nil || pr.Reconciled.ID != r.ID || pr.Reconciled.Result != reconcile.RunOK || pr.Reconciled.Remaining != r.Remaining {
			t.Errorf("status of %s: reconciled %+v, want the run %s", pr.Provider, pr.Reconciled, r.ID)
		}
	}
	if len(st.Backfill) != 1 || st.Backfill[0].ReadUpTo.IsZero() || st.Backfill[0].LagSeconds < 0 {
		t.Errorf("status: backfill %+v, want the demo org's cursor", st.Backfill)
	}
	if out, err := cli(t, p.natsURL, "status"); err != nil || !strings.Contains(out, "LAST RECONCILED") || !strings.Contains(out, "OKTA SYSTEM LOG") {
		t.Errorf("status: %v\n%s", err, out)
	}
}

// reportStored reports whether the report event id is on the events stream.
func reportStored(t *testing.T, natsURL, id string) bool {
	t.Helper()
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, "IDSYNC_EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err == nil && m.Subject == "idsync.events."+events.ReconcileReport && m.Header.Get(events.HeaderID) == id {
			return true
		}
	}
	return false
}
