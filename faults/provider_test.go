package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/idsync/idsync/faults/internal/ledger"
	"github.com/idsync/idsync/pkg/fakehttp"
)

// TestProviderFaults runs the load into three provider faults at once: a
// GitLab outage (every call answered 503) that lasts until gitlab-sync
// has given up on some events, an Okta rate-limit storm (every call 429
// with Retry-After: 1), and a slow GitHub (1.5 s per call against a 400 ms
// client timeout). When the faults clear, what was retried converges by
// itself; what was dead-lettered (with its reason) converges after
// `idsync dlq replay --all`, run as an operator would.
func TestProviderFaults(t *testing.T) {
	t.Parallel()
	s := newSystem(t, options{items: suite.items, batch: 2, consumer: map[string]string{
		"IDSYNC_CONSUMER_MAX_DELIVER": "5", "IDSYNC_CONSUMER_BACKOFF_BASE": "250ms", "IDSYNC_CONSUMER_BACKOFF_MAX": "2s",
		"IDSYNC_GITHUB_TIMEOUT": "400ms",
	}})
	s.startAll(1)
	gitlab, okta, github := s.world.GitLab.Faults(), s.world.Okta.Faults(), s.world.GitHub.Faults()
	gitlab.FailNext(1<<30, 503, "", "/", 0)
	okta.FailNext(1<<30, 429, "", "/", time.Second)
	github.SetLatency(1500 * time.Millisecond)
	s.fault("GitLab answers 503 to everything; Okta answers 429 with Retry-After: 1 to everything; GitHub takes 1.5s per call (client timeout 400ms); consumers: max 5 deliveries, backoff 250ms doubling to 2s")
	wait := s.runLoad(8)

	// okta-sync paces itself after a 429 (it holds its calls until the
	// reset the answer names), so the storm sees about one call a second;
	// and a consumer whose events all reached their fifth delivery calls
	// no more (they are dead letters). Both faults have bitten once each
	// has turned calls away a few times.
	waitFor(t, 2*time.Minute, "Okta to have refused 5 calls and GitHub to have timed out 10", func() bool {
		return count(okta, 429) >= 5 && count(github, 0) >= 10
	})
	okta.ClearFailures()
	github.SetLatency(0)
	s.fault("Okta's storm and GitHub's slowness end (%d answers 429, %d calls timed out)", count(okta, 429), count(github, 0))

	wait()
	waitFor(t, 2*time.Minute, "gitlab-sync to dead-letter 5 events", func() bool { return s.deadLetters("gitlab-sync") >= 5 })
	gitlab.ClearFailures()
	s.fault("GitLab's outage ends (%d answers 503)", count(gitlab, 503))
	s.faultOver()

	waitFor(t, 2*time.Minute, "every sync consumer to settle every message", s.settled)
	letters := s.deadLetterReasons()
	s.note("dead letters before the replay: %v", letters)
	out := s.cli(t, "dlq", "replay", "--all", "--json")
	var replayed struct{ Replayed int }
	if err := json.Unmarshal([]byte(out), &replayed); err != nil {
		t.Fatalf("idsync dlq replay: %v: %s", err, out)
	}
	s.replayed = replayed.Replayed
	s.fault("idsync dlq replay --all (%d replayed)", replayed.Replayed)
	converged := s.converge(suite.converge)
	s.finish("provider outage, 429 storm, slow provider", fmt.Sprintf("%d people, %d deliveries at %d/s", suite.items, len(s.deliveries), suite.rate),
		converged, expect{})
}

// count counts the requests a fake answered with status (0: the client
// gave up before the answer).
func count(f *fakehttp.Faults, status int) int {
	n := 0
	for _, r := range f.Requests() {
		if r.Status == status {
			n++
		}
	}
	return n
}

// deadLetters counts the dead letters of consumer.
func (s *system) deadLetters(consumer string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msgs, err := ledger.ReadStream(ctx, s.js, ns.Stream("DLQ"))
	if err != nil {
		return 0
	}
	n := 0
	for k, c := range ledger.CheckDeadLetters(msgs).ByConsumer {
		if strings.HasPrefix(k, consumer+"/") {
			n += c
		}
	}
	return n
}

// deadLetterReasons sums the dead letters up by consumer and class, with
// one reason each.
func (s *system) deadLetterReasons() map[string]string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msgs, err := ledger.ReadStream(ctx, s.js, ns.Stream("DLQ"))
	if err != nil {
		s.t.Fatal(err)
	}
	r := ledger.CheckDeadLetters(msgs)
	if len(r.Unexplained) > 0 {
		s.t.Errorf("dead letters without a reason: %v", r.Unexplained)
	}
	out := map[string]string{}
	for k, n := range r.ByConsumer {
		out[k] = fmt.Sprintf("%d, e.g. %q", n, r.Reasons[k])
	}
	return out
}

// settled reports whether no sync consumer has a message left to deliver
// or to settle.
func (s *system) settled() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, name := range syncServices {
		c, err := s.js.Consumer(ctx, ns.Stream("EVENTS"), name)
		if err != nil {
			return false
		}
		info, err := c.Info(ctx)
		if err != nil || info.NumPending > 0 || info.NumAckPending > 0 {
			return false
		}
	}
	return true
}

// cli runs the operator CLI against the system's NATS and returns stdout.
func (s *system) cli(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(bins["idsync"], args...)
	cmd.Env = []string{"IDSYNC_NATS_URL=" + s.natsURL(), "HOME=" + s.dir, "PATH=/usr/bin:/bin"}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("idsync %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}
