package natsd

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Cluster starts n servers routed to each other and waits until every one
// is ready (JetStream meta leader elected, streams current).
func Cluster(t testing.TB, bin, dir string, n int, opts Options) []*Server {
	t.Helper()
	servers := make([]*Server, n)
	for i := range servers {
		s, err := newServer(bin, dir, fmt.Sprintf("n%d", i+1), opts)
		if err != nil {
			t.Fatal(err)
		}
		servers[i] = s
	}
	for _, s := range servers {
		for _, o := range servers {
			if o != s {
				s.routes = append(s.routes, o.ClusterPort)
			}
		}
	}
	for _, s := range servers {
		s.Start(t)
	}
	for _, s := range servers {
		s.WaitReady(t, 60*time.Second)
	}
	if err := placeable(servers, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	return servers
}

// placeable waits until the cluster can place a stream on all its
// servers: a fresh cluster reports healthy before its meta leader knows
// every peer is online, and until then a replicated stream or KV bucket
// cannot be created ("no suitable peers for placement").
func placeable(servers []*Server, timeout time.Duration) error {
	nc, err := nats.Connect(URLs(servers))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "FAULTS_PLACEMENT", Subjects: []string{"faults.placement"}, Replicas: len(servers), Storage: jetstream.MemoryStorage})
		if err == nil {
			err = js.DeleteStream(ctx, "FAULTS_PLACEMENT")
		}
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("natsd: the cluster cannot place an R%d stream after %s: %w", len(servers), timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
