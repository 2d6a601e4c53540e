// Package relay is the naive relay the gateway is compared with: what a team
// would write in an afternoon — a net/http handler that reads the body and
// publishes it synchronously to JetStream, answering 200 once it is stored.
// No authentication, no size limit, no validation, no mapping, no dedupe id.
// It runs as its own process (idsync-bench relay) so that its CPU and memory
// are measured like the gateway's.
package relay

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Handler publishes each request's body to subject.
func Handler(js jetstream.JetStream, subject string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if _, err := js.Publish(r.Context(), subject, body); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// Run serves the relay until ctx ends. Flags: -nats (server URL), -addr
// (listen address; port 0 picks one), -subject. It prints "listening
// <addr>" on stdout once it accepts connections.
func Run(ctx context.Context, args []string, _ func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("relay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("nats", nats.DefaultURL, "NATS server URL")
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	subject := fs.String("subject", "bench.events.relay", "subject to publish to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	nc, err := nats.Connect(*url, nats.Name("bench-relay"))
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	srv := &http.Server{Handler: Handler(js, *subject), ReadHeaderTimeout: 5 * time.Second}
	fmt.Fprintln(stdout, "listening", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("relay: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("relay: %w", err)
	}
	return nil
}
