package idsync_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/idsync/idsync/pkg/tracing"
)

// TestTraceEndToEnd runs the demo all-in-one with an in-memory tracer
// provider and deletes bob in Okta: one trace must lead from the gateway's
// request through the publish and each sync consumer's handling to its
// provider calls, and no span may carry bob's email, login or the payload.
func TestTraceEndToEnd(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	p := startIn(tracing.WithProvider(context.Background(), tp), t, map[string]string{
		"IDSYNC_DATA_DIR": t.TempDir(), "IDSYNC_HTTP_ADDR": "127.0.0.1:0", "IDSYNC_NATS_LISTEN": "127.0.0.1:0",
		"IDSYNC_OKTA_HOOK_SECRET": oktaSecret, "IDSYNC_CONSOLE_WEBHOOK_SECRET": consoleSecret, "IDSYNC_DEMO": "true",
	})
	waitReady(t, p.httpURL)
	fakes := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^\s+(console|okta|gitlab|github)\s+(http://\S+)`).FindAllStringSubmatch(p.stdout.String(), -1) {
		fakes[m[1]] = m[2]
	}
	batch := []byte(`{"data":{"events":[{"uuid":"del-tr-1","published":"2026-11-23T10:00:00.000Z","eventType":"user.lifecycle.delete.initiated",
	  "target":[{"id":"00ubob","type":"User","alternateId":"bob@example.com","displayName":"Bob"}]}]}}`)
	if st, body := post(t, p.httpURL+"/okta/delete/user", http.Header{"Authorization": {oktaSecret}, "Content-Type": {"application/json"}}, batch); st != 200 {
		t.Fatalf("okta hook: %d %s", st, body)
	}

	// The server span of the request is the trace's root.
	var root *tracetest.SpanStub
	consumers := []string{"console-sync", "gitlab-sync", "github-sync", "eventlog"}
	deadline := time.Now().Add(30 * time.Second)
	for {
		spans := exp.GetSpans()
		root = nil
		for i := range spans {
			if spans[i].Name == "POST /okta/delete/user" {
				root = &spans[i]
			}
		}
		if root != nil && gitlabState(t, fakes["gitlab"], "bob@example.com") == "blocked" && !githubMember(t, fakes["github"], "bob-gh") &&
			!consoleMember(t, fakes["console"], "bob") && allProcessed(spans, root.SpanContext.TraceID(), consumers) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("trace incomplete; spans: %v", names(spans))
		}
		time.Sleep(50 * time.Millisecond)
	}
	spans := exp.GetSpans()
	traceID := root.SpanContext.TraceID()
	byID := map[trace.SpanID]tracetest.SpanStub{}
	for _, s := range spans {
		if s.SpanContext.TraceID() == traceID {
			byID[s.SpanContext.SpanID()] = s
		}
	}
	if root.SpanKind != trace.SpanKindServer || root.Parent.IsValid() {
		t.Fatalf("request span: kind %v, parent %v; want a server root", root.SpanKind, root.Parent)
	}
	// Each sync consumer's provider calls descend from its consumer span,
	// which descends from the gateway's publish, which descends from the request.
	for _, provider := range []string{"console", "gitlab", "github"} {
		var call *tracetest.SpanStub
		for _, s := range byID {
			if s.SpanKind == trace.SpanKindClient && attr(s, "idsync.provider") == provider {
				call = &s
				break
			}
		}
		if call == nil {
			t.Errorf("no %s call in the request's trace", provider)
			continue
		}
		if !strings.Contains(call.Name, " /") || strings.ContainsAny(call.Name, "@?") {
			t.Errorf("%s call span named %q: want the operation template", provider, call.Name)
		}
		chain := []string{}
		for s, ok := *call, true; ok; s, ok = byID[s.Parent.SpanID()] {
			chain = append(chain, s.Name)
		}
		want := []string{"process " + provider + "-sync", "publish IDSYNC_EVENTS", "POST /okta/delete/user"}
		if !containsInOrder(chain, want) {
			t.Errorf("%s call's ancestry %v, want it to pass through %v", provider, chain, want)
		}
	}
	// Nothing personal or payload-like in any attribute or name.
	for _, s := range spans {
		for _, kv := range append(s.Attributes, s.Resource.Attributes()...) {
			v := kv.Value.String()
			if strings.Contains(v, "@") || strings.Contains(strings.ToLower(v), "bob") || strings.Contains(v, "{") && strings.Contains(v, "\"") {
				t.Errorf("span %q attribute %s = %q", s.Name, kv.Key, v)
			}
		}
		if strings.Contains(s.Name, "@") || strings.Contains(strings.ToLower(s.Name), "bob") {
			t.Errorf("span name %q", s.Name)
		}
	}
}

func allProcessed(spans tracetest.SpanStubs, id trace.TraceID, consumers []string) bool {
	for _, c := range consumers {
		found := false
		for _, s := range spans {
			if s.Name == "process "+c && s.SpanContext.TraceID() == id {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func attr(s tracetest.SpanStub, key string) string {
	for _, kv := range s.Attributes {
		if string(kv.Key) == key {
			return kv.Value.String()
		}
	}
	return ""
}

func containsInOrder(chain, want []string) bool {
	i := 0
	for _, c := range chain {
		if i < len(want) && c == want[i] {
			i++
		}
	}
	return i == len(want)
}

func names(spans tracetest.SpanStubs) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}
