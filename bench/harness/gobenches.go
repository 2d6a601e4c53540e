package harness

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/idsync/idsync/bench/gobench"
	"github.com/idsync/idsync/bench/report"
)

// goBench is one of the repository's Go benchmark invocations.
type goBench struct {
	title, dir, pattern, benchtime, pkg string
	mem                                 bool
}

// allocBench measures allocations per request of the gateway's handler.
var allocBench = goBench{
	title: "The gateway's in-process handler benchmarks (httptest recorder, no network; an embedded file-store JetStream): the full path per delivery, every event new.",
	dir:   "services/gateway", pattern: ".", benchtime: "1000x", pkg: ".", mem: true,
}

// consumerBenches are the consumers' and end-to-end figures; a sync
// consumer's benchtime of "" takes -consumer-benchtime. Those benchmarks
// handle a batch of synctest.BenchBatch events per iteration, so that one
// iteration already keeps every worker of the replica busy.
var consumerBenches = []goBench{
	{title: "okta-sync, console.update.user.permission", dir: "services/okta-sync", pattern: "^BenchmarkThroughput$", pkg: "."},
	{title: "gitlab-sync, okta.create.user", dir: "services/gitlab-sync", pattern: "^BenchmarkThroughput$", pkg: "."},
	{title: "github-sync, console.update.user.permission", dir: "services/github-sync", pattern: "^BenchmarkThroughput$", pkg: "."},
	{title: "console-sync, okta.create.user", dir: "services/console-sync", pattern: "^BenchmarkThroughput$", pkg: "."},
	{title: "okta-sync against a rate-limited Okta (100 calls per 10 s window)", dir: "services/okta-sync", pattern: "^BenchmarkRateLimited$", benchtime: "1x", pkg: "."},
	{title: "event log, store writes (SQLite)", dir: "services/eventlog", pattern: "^BenchmarkIngest$", benchtime: "1s", pkg: "./store/sqlite/"},
	{title: "end to end, Okta delivery → GitLab call", dir: "services/idsync", pattern: "^BenchmarkEndToEnd$", benchtime: "200x", pkg: "."},
}

func (g goBench) args(count int) []string {
	a := []string{"test", "-run", "^$", "-bench", g.pattern, "-benchtime", g.benchtime, "-count", fmt.Sprint(count), "-timeout", "10m"}
	if g.mem {
		a = append(a, "-benchmem")
	}
	return append(a, g.pkg)
}

// run runs g in repo, returning the report's form of its figures; a
// failure is recorded in it, not returned, so that one broken benchmark
// does not lose the others.
func (g goBench) run(ctx context.Context, repo string, count int, progress io.Writer) report.GoBench {
	args := g.args(count)
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = a
		if strings.ContainsAny(a, "^$*") {
			quoted[i] = "'" + a + "'"
		}
	}
	out := report.GoBench{Title: g.title, Dir: g.dir, Command: "go " + strings.Join(quoted, " ")}
	fmt.Fprintf(progress, "== %s: (cd %s && %s)\n", g.title, g.dir, out.Command)
	bs, err := gobench.Run(ctx, filepath.Join(repo, g.dir), nil, args, progress)
	out.Benchmarks = bs
	if err != nil {
		out.Err = err.Error()
	}
	return out
}
