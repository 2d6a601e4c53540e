package harness

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/idsync/idsync/bench/payload"
	"github.com/idsync/idsync/bench/report"
)

// scenarios runs the load scenarios: every run goes through all of them,
// so that the ratios of a run compare measurements minutes apart at most.
type scenarios struct {
	cfg      Config
	sys      *system
	res      *report.Results
	progress io.Writer
	// single holds the single-event Okta delivery by padded size.
	single map[int]*payload.Delivery
	batch  *payload.Delivery
	sole   []*payload.Delivery // one per Console type
	// n numbers the scenarios of the invocation, for unique event ids;
	// epoch is the first Console eventTimestamp.
	n     int
	epoch int64
	done  map[report.Key]bool // measured in the current run
	// noted are the notes for the report, once each.
	noted []string
}

func (sc *scenarios) note(format string, args ...any) {
	n := fmt.Sprintf(format, args...)
	if !slices.Contains(sc.noted, n) {
		sc.noted = append(sc.noted, n)
	}
}

// notes returns what the report should say about how the figures were
// taken.
func (sc *scenarios) notes() []string {
	out := []string{
		"CPU times come from /proc in 10 ms ticks (USER_HZ): a per-request figure is exact to about 10 ms divided by the requests of the window.",
		"`machine` CPU is every core's busy time over the window, the load generator included; on a machine shared with other work it is an upper bound.",
	}
	return append(out, sc.noted...)
}

func newScenarios(cfg Config, sys *system, res *report.Results, progress io.Writer) (*scenarios, error) {
	sc := &scenarios{cfg: cfg, sys: sys, res: res, progress: progress, single: map[int]*payload.Delivery{}, epoch: time.Now().UnixMilli()}
	for _, size := range append([]int{1 << 10}, cfg.Sizes...) {
		if size > maxBody {
			continue
		}
		d, err := payload.OktaSingle(sys.secrets, size)
		if err != nil {
			return nil, err
		}
		sc.single[size] = d
	}
	var err error
	if sc.batch, err = payload.OktaBatch(sys.secrets, 20); err != nil {
		return nil, err
	}
	for _, name := range payload.ConsoleNames() {
		d, err := payload.Console(sys.secrets, name)
		if err != nil {
			return nil, err
		}
		sc.sole = append(sc.sole, d)
	}
	return sc, nil
}

// run measures every scenario of the groups once, as run number run.
func (sc *scenarios) run(ctx context.Context, run int) error {
	sc.done = map[report.Key]bool{}
	only, kib := sc.cfg.Only, 1<<10
	for _, c := range sc.cfg.Concurrency {
		if only[GroupRaw] {
			if err := sc.rawSync(ctx, run, report.CurveKey(report.RawSync, c)); err != nil {
				return err
			}
		}
		if only[GroupRelay] {
			if err := sc.http(ctx, run, report.CurveKey(report.Relay, c), sc.single[kib], nil); err != nil {
				return err
			}
		}
		if only[GroupGateway] {
			if err := sc.http(ctx, run, report.CurveKey(report.Gateway, c), sc.single[kib], nil); err != nil {
				return err
			}
		}
	}
	if only[GroupRaw] {
		if err := sc.asyncAndConsume(ctx, run); err != nil {
			return err
		}
	}
	if only[GroupGateway] {
		for _, d := range append([]*payload.Delivery{sc.batch}, sc.sole...) {
			if err := sc.http(ctx, run, report.Key{Target: report.Gateway, Body: d.Name, Senders: sc.cfg.Curve}, d, nil); err != nil {
				return err
			}
		}
		if err := sc.open(ctx, run); err != nil {
			return err
		}
	}
	if only[GroupSizes] {
		for _, size := range sc.cfg.Sizes {
			if size > maxBody {
				continue // refused by design: the report says so
			}
			for _, t := range []string{report.RawSync, report.Relay, report.Gateway} {
				k := report.SizeKey(t, sc.cfg.Curve, size)
				var err error
				if t == report.RawSync {
					err = sc.rawSync(ctx, run, k)
				} else {
					err = sc.http(ctx, run, k, sc.single[size], nil)
				}
				if err != nil {
					return err
				}
			}
		}
	}
	return nil
}
