package harness_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idsync/idsync/bench/harness"
	"github.com/idsync/idsync/pkg/service"
)

// TestMain lets this test binary stand in for idsync-bench: the harness
// starts its child processes (NATS, relay, gateway) from its own executable,
// marked by harness.ChildEnv.
func TestMain(m *testing.M) {
	if os.Getenv(harness.ChildEnv) != "" {
		service.Main("idsync-bench", harness.Run)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestSmoke runs the harness end to end for a moment: a NATS server, the
// gateway and the relay as child processes, every load scenario once at two
// small concurrencies, and the report. It checks that everything ran and
// every request was accepted, never how fast.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three processes and drives them for a few seconds (visible skip under -short)")
	}
	out := filepath.Join(t.TempDir(), "results", "latest.md")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err := harness.Run(ctx, []string{
		"-runs", "1", "-duration", "50ms", "-warmup", "10ms",
		"-only", "raw,relay,gateway,sizes", "-concurrency", "1,4", "-curve", "4", "-open-pool", "8",
		"-sizes", "1KiB,16KiB,2MiB", "-gateway-bin", "self", "-out", out,
	}, os.Getenv, &stdout, &stderr)
	if err != nil {
		t.Fatalf("harness: %v\n%s", err, stderr.String())
	}
	md, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(md, stdout.Bytes()) {
		t.Error("the report written differs from the one printed")
	}
	report := string(md)
	for _, want := range []string{
		"## Targets", "## 1. The limit: raw JetStream", "sync publish, 4 publishers", "async publish, window 500", "pull consume with explicit acks",
		"## 2. Cost curve: concurrent senders", "## 3. Gateway, full path, by delivery", "`okta-20`", "`console/user_added`", "`console/project_created`",
		"## 4. Cost curve: body size", "| 16KiB |", "refused by design", "## 5. Gateway, open loop",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("the report has no %q", want)
		}
	}
	if strings.Contains(report, "Failed operations") {
		t.Errorf("some requests failed:\n%s\n%s", report, stderr.String())
	}
	if t.Failed() {
		t.Logf("report:\n%s\nprogress:\n%s", report, stderr.String())
	}
}
