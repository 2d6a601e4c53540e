package idsync_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/idsync/idsync/pkg/events"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

// BenchmarkEndToEnd measures the latency from sending an Okta user creation
// to the gateway to GitLab's answer to the user creation it causes (the
// outcome's time, taken right after the provider call), through the whole
// all-in-one in demo mode: an upper bound of "gateway 2xx to provider call",
// as it includes the gateway's own handling. Deliveries are sent open-loop
// at a fixed rate.
func BenchmarkEndToEnd(b *testing.B) {
	for _, rate := range []int{50, 200, 1000} {
		b.Run(fmt.Sprintf("rate=%d/s", rate), func(b *testing.B) {
			p := start(&testing.T{}, map[string]string{
				"IDSYNC_DATA_DIR": b.TempDir(), "IDSYNC_HTTP_ADDR": "127.0.0.1:0", "IDSYNC_NATS_LISTEN": "127.0.0.1:0",
				"IDSYNC_OKTA_HOOK_SECRET": oktaSecret, "IDSYNC_CONSOLE_WEBHOOK_SECRET": consoleSecret, "IDSYNC_DEMO": "true",
				"IDSYNC_LOG_LEVEL": "error",
			})
			defer p.stop(&testing.T{})
			waitReadyB(b, p.httpURL)
			sent := map[string]time.Time{}
			var mu sync.Mutex
			var wg sync.WaitGroup
			tick := time.NewTicker(time.Second / time.Duration(rate))
			defer tick.Stop()
			b.ResetTimer()
			for i := range b.N {
				<-tick.C
				id := fmt.Sprintf("e2e-%d-%06d", rate, i)
				wg.Go(func() {
					body := fmt.Sprintf(`{"eventType":"com.okta.event_hook","eventId":"%s","data":{"events":[{"uuid":"%s","published":"2026-11-23T10:00:00.000Z","eventType":"user.lifecycle.create","target":[{"id":"00u%s","type":"User","alternateId":"%s@example.com","displayName":"%s"}]}]}}`, id, id, id, id, id)
					req, _ := http.NewRequest("POST", p.httpURL+"/okta/create/user", strings.NewReader(body))
					req.Header.Set("Authorization", oktaSecret)
					req.Header.Set("Content-Type", "application/json")
					t0 := time.Now()
					resp, err := http.DefaultClient.Do(req)
					if err != nil || resp.StatusCode != 200 {
						b.Errorf("delivery %s: %v %v", id, err, resp)
						return
					}
					resp.Body.Close()
					mu.Lock()
					sent[id] = t0
					mu.Unlock()
				})
			}
			wg.Wait()
			lat := waitOutcomes(b, p.natsURL, sent)
			b.StopTimer()
			slices.Sort(lat)
			q := func(f float64) float64 { return float64(lat[int(f*float64(len(lat)-1))]) / float64(time.Millisecond) }
			b.ReportMetric(q(0.5), "p50-ms")
			b.ReportMetric(q(0.99), "p99-ms")
			b.ReportMetric(q(1), "max-ms")
		})
	}
}

func waitReadyB(b *testing.B, base string) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.Fatal("not ready")
}

// waitOutcomes collects, per delivery, the time from its 2xx to GitLab's
// user.create outcome.
func waitOutcomes(b *testing.B, natsURL string, sent map[string]time.Time) []time.Duration {
	nc, err := nats.Connect(natsURL)
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cons, err := js.OrderedConsumer(ctx, "IDSYNC_OUTCOMES", jetstream.OrderedConsumerConfig{FilterSubjects: []string{"idsync.outcomes.gitlab.>"}})
	if err != nil {
		b.Fatal(err)
	}
	// One iterator, not Next: an ordered consumer's Next deletes and
	// recreates its server-side consumer on every call, and each creation
	// counts the stream's pending messages (≈ 14 % of the process's CPU at
	// 1,000 events/s, competing with the system under test).
	it, err := cons.Messages()
	if err != nil {
		b.Fatal(err)
	}
	defer it.Stop()
	var lat []time.Duration
	for len(lat) < len(sent) {
		m, err := nextWithin(it, 30*time.Second)
		if err != nil {
			b.Fatalf("outcomes: %v (%d of %d)", err, len(lat), len(sent))
		}
		ev, err := events.Default().Decode(events.DefaultNamespace, m.Subject(), m.Headers(), m.Data())
		if err != nil {
			continue
		}
		o, ok := ev.Payload.(*eventsv1.Outcome)
		if !ok || o.GetAction() != "user.create" {
			continue
		}
		if t0, ok := sent[o.GetEventId()]; ok {
			lat = append(lat, max(o.GetTime().AsTime().Sub(t0), 0))
		}
	}
	return lat
}

// nextWithin is it.Next, failing after d without a message.
func nextWithin(it jetstream.MessagesContext, d time.Duration) (jetstream.Msg, error) {
	t := time.AfterFunc(d, it.Stop)
	defer t.Stop()
	return it.Next()
}
