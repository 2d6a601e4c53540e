package idsync_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/bus/bustest"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/guard"
	"github.com/idsync/idsync/pkg/syncsvc"
	"github.com/idsync/idsync/pkg/syncsvc/synctest"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

// opsBus is a namespace of its own on a test server, with idsync's streams
// and the durable consumers the services declare (nobody consumes).
type opsBus struct {
	url string
	ns  events.Namespace
	js  jetstream.JetStream
}

func newOpsBus(t *testing.T, srv *bustest.Server) *opsBus {
	t.Helper()
	ns := bustest.Namespace(t)
	nc, err := nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	if err := bus.EnsureStreams(ctx, js, ns, bus.StreamConfig{Replicas: 1, MaxAge: time.Hour, MaxBytes: 8 << 20, Duplicates: time.Hour, DLQMaxAge: time.Hour}); err != nil {
		t.Fatal(err)
	}
	s := synctest.FastSettings()
	for _, p := range events.Providers {
		if _, err := bus.EnsureConsumer(ctx, js, ns, bus.SyncConsumer(ns, events.Default(), p), s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := bus.EnsureConsumer(ctx, js, ns, bus.ConsumerSpec{Durable: "eventlog", Stream: bus.StreamDLQ, FilterSubjects: []string{ns.DLQ()}}, s); err != nil {
		t.Fatal(err)
	}
	return &opsBus{url: srv.URL(), ns: ns, js: js}
}

func (b *opsBus) cli(t *testing.T, args ...string) (string, error) {
	t.Helper()
	return runCLI(t, map[string]string{"IDSYNC_NATS_URL": b.url, "IDSYNC_NAMESPACE": string(b.ns)}, args...)
}

func (b *opsBus) publish(t *testing.T, ev events.Event, subject string) {
	t.Helper()
	m, err := events.Encode(b.ns, ev)
	if err != nil {
		t.Fatal(err)
	}
	if subject != "" {
		m.Subject = subject
		m.Header.Set(nats.MsgIdHdr, "dlq:"+ev.ID)
	}
	if _, err := b.js.PublishMsg(context.Background(), m); err != nil {
		t.Fatal(err)
	}
}

type statusJSON struct {
	Streams []struct {
		Name         string   `json:"name"`
		Messages     uint64   `json:"messages"`
		BytesUsedPct *float64 `json:"bytes_used_pct"`
		MsgsUsedPct  *float64 `json:"msgs_used_pct"`
	} `json:"streams"`
	Consumers []struct {
		Name        string `json:"name"`
		Stream      string `json:"stream"`
		Pending     uint64 `json:"pending"`
		GuardPaused bool   `json:"guard_paused"`
		GuardReason string `json:"guard_reason"`
		DeadLetters uint64 `json:"dead_letters"`
	} `json:"consumers"`
	DLQ       map[string]uint64 `json:"dlq"`
	Providers []struct {
		Provider string `json:"provider"`
		Mode     string `json:"mode"`
		Why      string `json:"why"`
		Source   string `json:"source"`
	} `json:"providers"`
}

func outcomeEvent(t *testing.T, id, source string, dryRun bool) events.Event {
	t.Helper()
	ty, ok := events.Default().OutcomeType(events.ProviderGitLab, events.OktaDeleteUser)
	if !ok {
		t.Fatal("no gitlab outcome type")
	}
	return events.Event{ID: id, Type: ty, Source: source, Time: time.Now(), Payload: &eventsv1.Outcome{
		Provider: events.ProviderGitLab, Consumer: "gitlab-sync", Action: "user.block", DryRun: dryRun, Time: timestamppb.Now(),
	}}
}

func TestStatus(t *testing.T) {
	t.Parallel()
	srv := bustest.Start(t)
	del := func(id string) events.Event {
		return synctest.OktaUserEvent(events.OktaDeleteUser, id, "00u"+id, id+"@example.com")
	}
	for _, tc := range []struct {
		name    string
		arrange func(t *testing.T, b *opsBus)
		check   func(t *testing.T, st statusJSON, human string)
	}{
		{"fresh system", func(*testing.T, *opsBus) {}, func(t *testing.T, st statusJSON, human string) {
			if len(st.Streams) != 3 || len(st.Consumers) != 5 || len(st.DLQ) != 0 || len(st.Providers) != 4 {
				t.Errorf("status of a fresh system: %+v", st)
			}
			for _, s := range st.Streams {
				if s.Messages != 0 || s.BytesUsedPct == nil || *s.BytesUsedPct != 0 || s.MsgsUsedPct != nil {
					t.Errorf("stream %+v", s)
				}
			}
			for _, p := range st.Providers {
				if p.Mode != "unknown" || p.Source != "none" {
					t.Errorf("provider %+v, want unknown", p)
				}
			}
			for _, w := range []string{"STREAM", "CONSUMER", "PROVIDER", "gitlab-sync", "no limit", "nothing yet"} {
				if !strings.Contains(human, w) {
					t.Errorf("status lacks %q:\n%s", w, human)
				}
			}
		}},
		{"pending messages", func(t *testing.T, b *opsBus) {
			b.publish(t, del("p1"), "")
			b.publish(t, del("p2"), "")
		}, func(t *testing.T, st statusJSON, _ string) {
			want := map[string]uint64{"console-sync": 2, "gitlab-sync": 2, "github-sync": 2, "okta-sync": 0}
			for _, c := range st.Consumers {
				if w, ok := want[c.Name]; ok && c.Pending != w {
					t.Errorf("%s pending %d, want %d", c.Name, c.Pending, w)
				}
			}
			if st.Streams[0].Messages != 2 {
				t.Errorf("events stream %+v", st.Streams[0])
			}
		}},
		{"dead letter", func(t *testing.T, b *opsBus) {
			b.publish(t, del("d1"), b.ns.DLQSubject("gitlab-sync"))
		}, func(t *testing.T, st statusJSON, human string) {
			if st.DLQ["gitlab-sync"] != 1 || len(st.DLQ) != 1 {
				t.Errorf("dlq %v", st.DLQ)
			}
			for _, c := range st.Consumers {
				if want := map[bool]uint64{true: 1}[c.Name == "gitlab-sync"]; c.DeadLetters != want {
					t.Errorf("%s dead letters %d, want %d", c.Name, c.DeadLetters, want)
				}
			}
		}},
		{"paused guard", func(t *testing.T, b *opsBus) {
			kv, err := bus.KeyValue(context.Background(), b.js, b.ns, bus.BucketGuard, 1)
			if err != nil {
				t.Fatal(err)
			}
			v, _ := json.Marshal(guard.State{Paused: true, Reason: "26 removals in 1h0m0s", TrippedAt: time.Now()})
			if _, err := kv.Put(context.Background(), "github-sync", v); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, st statusJSON, human string) {
			for _, c := range st.Consumers {
				if c.GuardPaused != (c.Name == "github-sync") || (c.GuardPaused && c.GuardReason != "26 removals in 1h0m0s") {
					t.Errorf("consumer %+v", c)
				}
			}
			if !strings.Contains(human, "PAUSED since") || !strings.Contains(human, "26 removals") {
				t.Errorf("human status does not show the pause:\n%s", human)
			}
		}},
		{"modes: announced, last outcome, cli samples ignored", func(t *testing.T, b *opsBus) {
			kv, err := bus.KeyValue(context.Background(), b.js, b.ns, syncsvc.BucketServices, 1)
			if err != nil {
				t.Fatal(err)
			}
			v, _ := json.Marshal(syncsvc.Announcement{Consumer: "okta-sync", Provider: "okta", Mode: syncsvc.ModeDryRun, Why: "IDSYNC_DRY_RUN", Version: "dev", Started: time.Now()})
			if _, err := kv.Put(context.Background(), "okta-sync", v); err != nil {
				t.Fatal(err)
			}
			b.publish(t, outcomeEvent(t, "o1", "urn:idsync:gitlab-sync", false), "")
			b.publish(t, outcomeEvent(t, "o2", "urn:idsync:cli", true), "")
		}, func(t *testing.T, st statusJSON, human string) {
			got := map[string]string{}
			for _, p := range st.Providers {
				got[p.Provider] = p.Mode + "/" + p.Source + "/" + p.Why
			}
			want := map[string]string{"okta": "dry-run/announced/IDSYNC_DRY_RUN", "gitlab": "live/last-outcome/", "github": "unknown/none/", "console": "unknown/none/"}
			for p, w := range want {
				if got[p] != w {
					t.Errorf("%s: %s, want %s", p, got[p], w)
				}
			}
			if !strings.Contains(human, "as last seen") || !strings.Contains(human, "announced at start") {
				t.Errorf("human status does not say where the modes come from:\n%s", human)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newOpsBus(t, srv)
			tc.arrange(t, b)
			out, err := b.cli(t, "status", "--json")
			if err != nil {
				t.Fatalf("status --json: %v\n%s", err, out)
			}
			var st statusJSON
			if err := json.Unmarshal([]byte(out), &st); err != nil {
				t.Fatalf("status --json does not parse: %v\n%s", err, out)
			}
			human, err := b.cli(t, "status")
			if err != nil {
				t.Fatalf("status: %v\n%s", err, human)
			}
			tc.check(t, st, human)
		})
	}
}

func TestStatusWithoutStreams(t *testing.T) {
	t.Parallel()
	srv := bustest.Start(t)
	out, err := runCLI(t, map[string]string{"IDSYNC_NATS_URL": srv.URL(), "IDSYNC_NAMESPACE": "nothing"}, "status")
	if err == nil || !strings.Contains(err.Error(), "NOTHING_EVENTS does not exist") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("status without streams: %v\n%s", err, out)
	}
}

func TestStreamsAndConsumersDescribe(t *testing.T) {
	t.Parallel()
	b := newOpsBus(t, bustest.Start(t))
	events := b.ns.Stream(bus.StreamEvents)
	for _, tc := range []struct {
		name    string
		args    []string
		want    []string
		wantErr string
	}{
		{"all streams", []string{"streams"}, []string{"STREAM", events, b.ns.Stream(bus.StreamDLQ), "MAX AGE"}, ""},
		{"stream by full name", []string{"streams", events}, []string{"stream:", events, "duplicate window:", "1h0m0s", "discard:"}, ""},
		{"stream by base name", []string{"streams", "outcomes"}, []string{"stream:", b.ns.Stream(bus.StreamOutcomes)}, ""},
		{"unknown stream", []string{"streams", "NOPE"}, nil, `unknown stream "NOPE"`},
		{"all consumers", []string{"consumers"}, []string{"CONSUMER", "okta-sync", "eventlog", "WAITING PULLS"}, ""},
		{"consumer by name", []string{"consumers", "gitlab-sync"}, []string{"consumer:", "gitlab-sync", "ack wait:", "5s", b.ns.Subject(mustType(t, "okta.delete.user"))}, ""},
		{"unknown consumer", []string{"consumers", "nobody"}, nil, `unknown consumer "nobody" (durable consumers: console-sync, eventlog, github-sync, gitlab-sync, okta-sync)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := b.cli(t, tc.args...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if tc.name == "consumer by name" && strings.Contains(out, "okta-sync") {
				t.Errorf("describe gitlab-sync shows others:\n%s", out)
			}
		})
	}
	t.Run("json", func(t *testing.T) {
		t.Parallel()
		var streams []jetstream.StreamInfo
		out, err := b.cli(t, "streams", "--json")
		if err != nil || json.Unmarshal([]byte(out), &streams) != nil || len(streams) != 3 || streams[0].Config.Name != events {
			t.Fatalf("streams --json: %v\n%s", err, out)
		}
		var consumers []jetstream.ConsumerInfo
		out, err = b.cli(t, "consumers", "--json", "okta-sync")
		if err != nil || json.Unmarshal([]byte(out), &consumers) != nil || len(consumers) != 1 || consumers[0].Name != "okta-sync" || consumers[0].Config.AckWait != 5*time.Second {
			t.Fatalf("consumers --json okta-sync: %v\n%s", err, out)
		}
	})
}

func mustType(t *testing.T, name string) *events.Type {
	t.Helper()
	ty, ok := events.Default().Lookup(name)
	if !ok {
		t.Fatalf("no type %s", name)
	}
	return ty
}

type sentJSON struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Subject  string `json:"subject"`
	Stream   string `json:"stream"`
	Sequence uint64 `json:"sequence"`
	Source   string `json:"source"`
	Sample   bool   `json:"sample"`
}

// readBack decodes the message at seq of stream through the catalog.
func (b *opsBus) readBack(t *testing.T, stream string, seq uint64) events.Event {
	t.Helper()
	s, err := b.js.Stream(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.GetMsg(context.Background(), seq)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := events.Default().Decode(b.ns, m.Subject, m.Header, m.Data)
	if err != nil {
		t.Fatalf("message %d of %s does not decode: %v", seq, stream, err)
	}
	return ev
}

// TestSendEveryCatalogType sends a sample of every type of the catalog and
// decodes each back to the same type.
func TestSendEveryCatalogType(t *testing.T) {
	t.Parallel()
	b := newOpsBus(t, bustest.Start(t))
	types := events.Default().Types()
	work := make(chan *events.Type)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for ty := range work {
				out, err := b.cli(t, "send", ty.Name, "--json")
				var s sentJSON
				if err != nil || json.Unmarshal([]byte(out), &s) != nil {
					t.Errorf("send %s: %v\n%s", ty.Name, err, out)
					continue
				}
				ev := b.readBack(t, s.Stream, s.Sequence)
				if ev.Type != ty || ev.ID != s.ID || ev.Source != "urn:idsync:cli" || !strings.HasPrefix(s.ID, "cli-") || !s.Sample || s.Subject != b.ns.Subject(ty) {
					t.Errorf("send %s: sent %+v, read back %s %s from %s", ty.Name, s, ev.Type.Name, ev.ID, ev.Source)
				}
				if ev.Payload.ProtoReflect().Descriptor() != ty.Payload.Descriptor() {
					t.Errorf("send %s: payload %s", ty.Name, ev.Payload.ProtoReflect().Descriptor().FullName())
				}
			}
		})
	}
	for _, ty := range types {
		work <- ty
	}
	close(work)
	wg.Wait()
	if n := streamMsgs(t, b.js, b.ns.Stream(bus.StreamEvents)) + streamMsgs(t, b.js, b.ns.Stream(bus.StreamOutcomes)); n != uint64(len(types)) {
		t.Errorf("%d messages stored for %d types", n, len(types))
	}
}

func TestSend(t *testing.T) {
	t.Parallel()
	b := newOpsBus(t, bustest.Start(t))
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	bad := filepath.Join(dir, "bad.json")
	for f, body := range map[string]string{
		good: `{"uuid":"u-1","eventType":"user.lifecycle.delete.initiated","user":{"id":"00uzoe","login":"zoe@example.com"}}`,
		bad:  `{"nope":1}`,
	} {
		if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name    string
		args    []string
		want    []string
		wantErr string
	}{
		{"sample, table", []string{"send", "okta.delete.user"}, []string{"SUBJECT", b.ns.Subject(mustType(t, "okta.delete.user")), "acted on by: console-sync, gitlab-sync, github-sync"}, ""},
		{"flags before the type", []string{"send", "--subject", "00uzoe", "console.tag_created"}, []string{"events.console.tag_created"}, ""},
		{"payload from a file", []string{"send", "okta.delete.user", "--file", good, "--subject", "00uzoe"}, []string{"SEQUENCE"}, ""},
		{"list", []string{"send", "--list"}, []string{"okta.delete.user", "outcome.gitlab.okta.delete.user", "guard.github"}, ""},
		{"unknown type", []string{"send", "okta.nothing"}, nil, `unknown event type "okta.nothing" (list them with: idsync send --list)`},
		{"no type", []string{"send"}, nil, "one event type is required"},
		{"bad payload", []string{"send", "okta.delete.user", "--file", bad}, nil, "is not a okta.delete.user payload"},
		{"missing file", []string{"send", "okta.delete.user", "--file", filepath.Join(dir, "none.json")}, nil, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := b.cli(t, tc.args...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q\n%s", err, tc.wantErr, out)
				}
				return
			}
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	t.Run("file payload reads back", func(t *testing.T) {
		t.Parallel()
		out, err := b.cli(t, "send", "okta.delete.user", "--file", good, "--subject", "00uzoe", "--json")
		var s sentJSON
		if err != nil || json.Unmarshal([]byte(out), &s) != nil || s.Sample {
			t.Fatalf("%v\n%s", err, out)
		}
		ev := b.readBack(t, s.Stream, s.Sequence)
		p, ok := ev.Payload.(*eventsv1.OktaUserLifecycle)
		if !ok || p.GetUser().GetLogin() != "zoe@example.com" || ev.Subject != "00uzoe" {
			t.Fatalf("read back %+v", ev)
		}
	})
}

// TestStatusOfTheAllInOne: a fresh all-in-one announces every provider in
// dry-run (no credentials), and its consumers are all there.
func TestStatusOfTheAllInOne(t *testing.T) {
	p := start(t, map[string]string{
		"IDSYNC_DATA_DIR": t.TempDir(), "IDSYNC_HTTP_ADDR": "127.0.0.1:0", "IDSYNC_NATS_LISTEN": "127.0.0.1:0",
		"IDSYNC_OKTA_HOOK_SECRET": oktaSecret, "IDSYNC_CONSOLE_WEBHOOK_SECRET": consoleSecret,
	})
	waitReady(t, p.httpURL)
	out, err := cli(t, p.natsURL, "status", "--json")
	var st statusJSON
	if err != nil || json.Unmarshal([]byte(out), &st) != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	for _, pr := range st.Providers {
		if pr.Mode != "dry-run" || pr.Source != "announced" || pr.Why != "no "+pr.Provider+" credentials" {
			t.Errorf("provider %+v, want dry-run announced for lack of credentials", pr)
		}
	}
	var names []string
	for _, c := range st.Consumers {
		names = append(names, c.Name+"@"+c.Stream)
	}
	want := "console-sync@IDSYNC_EVENTS eventlog@IDSYNC_DLQ eventlog@IDSYNC_EVENTS eventlog@IDSYNC_OUTCOMES github-sync@IDSYNC_EVENTS gitlab-sync@IDSYNC_EVENTS okta-sync@IDSYNC_EVENTS"
	if strings.Join(names, " ") != want {
		t.Errorf("consumers %v, want %s", names, want)
	}
	if out, err := cli(t, p.natsURL, "status"); err != nil || !strings.Contains(out, "dry-run (no gitlab credentials)") {
		t.Errorf("status: %v\n%s", err, out)
	}
}
