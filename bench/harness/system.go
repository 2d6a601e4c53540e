package harness

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/idsync/idsync/bench/jsprobe"
	"github.com/idsync/idsync/bench/payload"
	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/events"
)

// The streams' configuration, given to the gateway through its variables
// and to the copy the probes use through pkg/bus: production's defaults,
// except a size limit the largest scenario cannot reach between purges.
var streams = bus.StreamConfig{
	Replicas: 1, MaxAge: 720 * time.Hour, MaxBytes: 8 << 30, Duplicates: 24 * time.Hour, DLQMaxAge: 2160 * time.Hour,
}

// maxBody is the gateway's body limit: its default, set explicitly.
const maxBody = 1 << 20

// system is the system under test: a NATS server, the gateway and the naive
// relay, each its own process, and the harness's own NATS connection.
type system struct {
	nats, gateway, relay *child
	nc                   *nats.Conn
	js                   jetstream.JetStream
	secrets              payload.Secrets
	gatewayURL, relayURL string
	// purge lists the streams emptied after every scenario.
	purge []string
}

// start starts what cfg's groups need, in dir.
func start(ctx context.Context, cfg Config, dir string, progress io.Writer) (_ *system, err error) {
	s := &system{secrets: payload.Secrets{Okta: secret(), Console: secret()}}
	defer func() {
		if err != nil {
			s.stop()
		}
	}()
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	if s.nats, err = startChild("nats", self, []string{"nats", "-store", filepath.Join(dir, "jetstream")}, childVars(nil), dir); err != nil {
		return nil, err
	}
	url := "nats://" + trimScheme(s.nats.addr)
	if s.nc, err = nats.Connect(url, nats.Name("idsync-bench")); err != nil {
		return nil, fmt.Errorf("connecting to the benchmark's NATS: %w", err)
	}
	if s.js, err = jetstream.New(s.nc); err != nil {
		return nil, err
	}
	copyCfg := jsprobe.Stream(streams)
	if _, err := s.js.CreateOrUpdateStream(ctx, copyCfg); err != nil {
		return nil, fmt.Errorf("creating %s: %w", copyCfg.Name, err)
	}
	s.purge = append(s.purge, copyCfg.Name)

	if cfg.Only[GroupGateway] || cfg.Only[GroupSizes] {
		bin, args := cfg.GatewayBin, []string(nil)
		switch bin {
		case "self":
			bin, args = self, []string{"gateway"}
		case "":
			bin = filepath.Join(dir, "gateway")
			fmt.Fprintf(progress, "building the gateway: go build -o %s ./services/gateway/cmd/gateway\n", bin)
			cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./services/gateway/cmd/gateway")
			cmd.Dir = cfg.Repo
			if out, err := cmd.CombinedOutput(); err != nil {
				return nil, fmt.Errorf("building the gateway: %w\n%s", err, out)
			}
		}
		vars := childVars(map[string]string{
			"IDSYNC_NATS_URL":                url,
			"IDSYNC_HTTP_ADDR":               "127.0.0.1:0",
			"IDSYNC_OKTA_HOOK_SECRET":        s.secrets.Okta,
			"IDSYNC_CONSOLE_WEBHOOK_SECRET":  s.secrets.Console,
			"IDSYNC_MAX_BODY_BYTES":          config.ByteSize(maxBody).String(),
			"IDSYNC_STREAM_REPLICAS":         fmt.Sprint(streams.Replicas),
			"IDSYNC_STREAM_MAX_AGE":          streams.MaxAge.String(),
			"IDSYNC_STREAM_MAX_BYTES":        config.ByteSize(streams.MaxBytes).String(),
			"IDSYNC_STREAM_DUPLICATE_WINDOW": streams.Duplicates.String(),
			"IDSYNC_DLQ_MAX_AGE":             streams.DLQMaxAge.String(),
		})
		if s.gateway, err = startChild("gateway", bin, args, vars, dir); err != nil {
			return nil, err
		}
		s.gatewayURL = "http://" + s.gateway.addr
		if err := ready(ctx, s.gatewayURL+"/readyz"); err != nil {
			return nil, fmt.Errorf("gateway: %w\n%s", err, s.gateway.logTail())
		}
		s.purge = append(s.purge, events.DefaultNamespace.Stream(bus.StreamEvents))
	}
	if cfg.Only[GroupRelay] || cfg.Only[GroupSizes] {
		if s.relay, err = startChild("relay", self, []string{"relay", "-nats", url, "-subject", jsprobe.SubjectRelay}, childVars(nil), dir); err != nil {
			return nil, err
		}
		s.relayURL = "http://" + s.relay.addr
	}
	return s, nil
}

// childVars is a child's whole environment: only what a process needs to
// run, plus vars; nothing of the caller's IDSYNC_* or OTEL_* settings leaks
// in, so tracing stays off.
func childVars(vars map[string]string) []string {
	env := []string{childEnv + "=1"}
	for _, k := range []string{"PATH", "HOME", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

// ready waits until url answers 200.
func ready(ctx context.Context, url string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after 30s (last: %v)", url, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// emptyStreams purges the streams, so that every scenario starts from the
// same (empty) file store.
func (s *system) emptyStreams(ctx context.Context) error {
	for _, name := range s.purge {
		st, err := s.js.Stream(ctx, name)
		if err == nil {
			err = st.Purge(ctx)
		}
		if err != nil {
			return fmt.Errorf("purging %s: %w", name, err)
		}
	}
	return nil
}

// alive reports a child that has died.
func (s *system) alive() error {
	var errs []error
	for _, c := range []*child{s.nats, s.gateway, s.relay} {
		if c != nil {
			errs = append(errs, c.alive())
		}
	}
	return errors.Join(errs...)
}

// stop stops the processes: the gateway and relay first, NATS last.
func (s *system) stop() error {
	var errs []error
	errs = append(errs, s.gateway.stop(), s.relay.stop())
	if s.nc != nil {
		s.nc.Close()
	}
	errs = append(errs, s.nats.stop())
	s.gateway, s.relay, s.nats, s.nc = nil, nil, nil, nil
	return errors.Join(errs...)
}

func secret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func trimScheme(addr string) string {
	for _, p := range []string{"nats://", "tls://"} {
		if len(addr) > len(p) && addr[:len(p)] == p {
			return addr[len(p):]
		}
	}
	return addr
}
