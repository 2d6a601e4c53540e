// Package natsd runs a NATS server with JetStream on a file store as a
// process of its own (idsync-bench nats), so that the harness measures it
// apart from itself and needs no nats-server installed: the same server code
// as the nats-server binary, embedded.
package natsd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Version is the embedded server's version.
const Version = server.VERSION

// Run serves until ctx ends. Flags: -store (JetStream file store
// directory, required), -max-store (bytes the store may use). It listens on
// a free loopback port and prints "listening <url>" on stdout once it
// accepts connections.
func Run(ctx context.Context, args []string, _ func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("nats", flag.ContinueOnError)
	fs.SetOutput(stderr)
	store := fs.String("store", "", "JetStream file store directory")
	maxStore := fs.Int64("max-store", 64<<30, "bytes the JetStream store may use")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *store == "" {
		return errors.New("nats: -store is required")
	}
	ns, err := server.NewServer(&server.Options{
		ServerName: "idsync-bench", Host: "127.0.0.1", Port: server.RANDOM_PORT,
		JetStream: true, StoreDir: *store, JetStreamMaxStore: *maxStore,
		NoSigs: true, NoLog: true,
	})
	if err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return errors.New("nats: not ready after 10s")
	}
	fmt.Fprintln(stdout, "listening", ns.ClientURL())
	<-ctx.Done()
	ns.Shutdown()
	ns.WaitForShutdown()
	return nil
}
