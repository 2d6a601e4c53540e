package eventlog

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/known"
	"github.com/idsync/idsync/pkg/logging"
)

// TestKnownEndpoint runs the event log service and asks it, as the Okta
// backfill does on <ns>.eventlog.known, which event ids it holds: those it
// stored, not others; once it stops, the question has no answer (an error,
// never "unknown").
func TestKnownEndpoint(t *testing.T) {
	h := embedded(t)
	conn := h.connect()
	svc, err := Start(Settings{BatchSize: 10, BatchLinger: 20 * time.Millisecond, AckWait: 5 * time.Second}, h.st, conn, h.ns, logging.Discard(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	at := time.Now().UTC()
	h.publish(deleteUser("k-stored-1", "ann", at), deleteUser("k-stored-2", "bob", at))
	client := known.NewClient(h.conn.NC, h.ns, 2*time.Second)
	waitUntil(t, "both events stored and known", func() bool {
		got, err := client.Known(context.Background(), []string{"k-stored-1", "k-stored-2", "k-never"})
		return err == nil && len(got) == 2 && got["k-stored-1"] && got["k-stored-2"]
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := client.Known(context.Background(), []string{"k-stored-1"}); !errors.Is(err, known.ErrUnavailable) {
		t.Fatalf("after the event log stopped: %v, want ErrUnavailable", err)
	}
}
