// Package harness is idsync's benchmark harness (issue 6): in one run on one
// machine it measures side by side the limit (raw JetStream publish and
// consume), a naive net/http relay and the idsync gateway's full path, with
// the same bodies against the same NATS server, then runs the repository's
// Go benchmarks of the consumers and the whole system, and writes one
// markdown report. The system under test runs as child processes: a NATS
// server, the gateway binary and the relay.
package harness

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/idsync/idsync/bench/natsd"
	"github.com/idsync/idsync/bench/relay"
	"github.com/idsync/idsync/bench/report"
	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/services/gateway"
)

// Run is idsync-bench: the harness, or with a first argument relay, nats or
// gateway one of its child processes.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "relay":
			return relay.Run(ctx, args[1:], getenv, stdout, stderr)
		case "nats":
			return natsd.Run(ctx, args[1:], getenv, stdout, stderr)
		case "gateway":
			return gateway.Run(ctx, args[1:], getenv, stdout, stderr)
		}
	}
	cfg, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return config.ErrHelp
	}
	if err != nil {
		return err
	}
	if cfg.Repo == "" {
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		if cfg.Repo, err = findRepo(wd); err != nil && (cfg.GatewayBin == "" || cfg.Only[GroupAllocs] || cfg.Only[GroupConsumers]) {
			return err
		}
	}
	res, err := bench(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	res.Header = header(ctx, cfg, args)
	var md bytes.Buffer
	if err := report.Write(&md, res); err != nil {
		return err
	}
	if cfg.Out != "" {
		if err := os.MkdirAll(filepath.Dir(cfg.Out), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(cfg.Out, md.Bytes(), 0o644); err != nil {
			return err
		}
	}
	_, err = stdout.Write(md.Bytes())
	return err
}

// bench runs the scenario groups of cfg, reporting progress.
func bench(ctx context.Context, cfg Config, progress io.Writer) (*report.Results, error) {
	res := &report.Results{
		Concurrency: cfg.Concurrency, Sizes: cfg.Sizes, Curve: cfg.Curve, MaxBody: maxBody, AsyncWindow: cfg.AsyncWindow,
		Samples: map[report.Key][]report.Sample{},
	}
	if !cfg.Only[GroupSizes] {
		res.Sizes = nil
	}
	if cfg.loads() {
		dir, err := os.MkdirTemp("", "idsync-bench-")
		if err != nil {
			return nil, err
		}
		if cfg.Keep {
			fmt.Fprintf(progress, "keeping %s\n", dir)
		} else {
			defer os.RemoveAll(dir)
		}
		if err := load(ctx, cfg, dir, res, progress); err != nil {
			return nil, err
		}
	}
	if cfg.Only[GroupAllocs] {
		g := allocBench.run(ctx, cfg.Repo, cfg.GoCount, progress)
		res.Allocs = &g
	}
	if cfg.Only[GroupConsumers] {
		for _, b := range consumerBenches {
			if b.benchtime == "" {
				b.benchtime = cfg.ConsumerBenchtime
			}
			res.Consumers = append(res.Consumers, b.run(ctx, cfg.Repo, cfg.GoCount, progress))
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return res, nil
}

// load starts the system under test in dir, runs the load scenarios
// cfg.Runs times and stops it.
func load(ctx context.Context, cfg Config, dir string, res *report.Results, progress io.Writer) (err error) {
	sys, err := start(ctx, cfg, dir, progress)
	if err != nil {
		return err
	}
	defer func() {
		if serr := sys.stop(); serr != nil && err == nil {
			err = fmt.Errorf("stopping the system under test: %w", serr)
		}
	}()
	sc, err := newScenarios(cfg, sys, res, progress)
	if err != nil {
		return err
	}
	for run := 1; run <= cfg.Runs; run++ {
		if err := sc.run(ctx, run); err != nil {
			return err
		}
	}
	res.Notes = append(res.Notes, sc.notes()...)
	return nil
}
