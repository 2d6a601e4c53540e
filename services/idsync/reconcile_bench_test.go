package idsync_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/idsync/idsync/pkg/consolefake"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/fakehttp"
	"github.com/idsync/idsync/pkg/githubfake"
	"github.com/idsync/idsync/pkg/gitlabfake"
	"github.com/idsync/idsync/pkg/okta"
	"github.com/idsync/idsync/pkg/oktafake"
	"github.com/idsync/idsync/pkg/reconcile"
	"github.com/idsync/idsync/services/idsync"
)

// BenchmarkReconcileAll measures, for the whole all-in-one at once (issue
// 7), the time to detect and to repair 1 % drift among 10,000 people
// across the four provider fakes, and the calls it costs against each
// provider's rate limit. The world is consistent under the built-in rules:
// every person is ACTIVE in Okta, a guest of Console company acme and a
// developer of one of its ten projects, so they are in the Okta groups
// console-acme and console-acme-<project>, a developer of GitLab group
// acme/<project>, and a member of GitHub organization acme and its team
// <project>. A report must find nothing before the drift is made by hand
// in the fakes (drift). Then:
//   - detect: the four reports, asked in parallel through reconcile.Ask as
//     `idsync reconcile` does, until all four have answered;
//   - repair: the four with apply and removeUnmanaged, console-sync's
//     first, then the three others in parallel. console-sync's repair
//     changes the Console, which the three others read as their source of
//     truth: asked all at once, as `idsync reconcile --apply` does, okta-sync
//     can remove from console-acme someone console-sync is adding back to
//     the company, and a report finds them missing afterwards
//     (IDSYNC_BENCH_PARALLEL_REPAIR=1 repairs all four at once, to see it);
//   - a last report must find nothing left.
//
// Run it once:
//
//	cd services/idsync && go test -run '^$' -bench BenchmarkReconcileAll -benchtime 1x -timeout 20m .
func BenchmarkReconcileAll(b *testing.B) {
	if testing.Short() {
		b.Skip("BenchmarkReconcileAll takes minutes (it waits for the providers' rate-limit windows)")
	}
	w := newReconcileWorld(b)
	p := startB(b, w.env)
	nc, err := nats.Connect(p.natsURL)
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 18*time.Minute)
	defer cancel()
	all := [][]string{events.Providers}
	repairOrder := [][]string{{events.ProviderConsole}, {events.ProviderOkta, events.ProviderGitLab, events.ProviderGitHub}}
	if os.Getenv("IDSYNC_BENCH_PARALLEL_REPAIR") == "1" {
		repairOrder = all
	}
	report, repair := reconcile.Request{}, reconcile.Request{Apply: true, RemoveUnmanaged: true}

	for b.Loop() {
		b.StopTimer()
		w.limit()
		clean := w.round(ctx, b, p, nc, report, all)
		if n := clean.items(); n != 0 {
			b.Fatalf("the world is not consistent before the drift: %d differences\n%s", n, clean.describe(10))
		}
		w.drift()
		// Every quota window starts afresh, as after an idle minute.
		w.limit()
		b.StartTimer()

		detected := w.round(ctx, b, p, nc, report, all)
		repaired := w.round(ctx, b, p, nc, repair, repairOrder)

		b.StopTimer()
		final := w.round(ctx, b, p, nc, report, all)
		b.Log(w.table(clean, detected, repaired, final))
		for prov, want := range rwFound {
			if got := detected.reports[prov].Counts; got.Add != want.Add || got.Change != want.Change || got.Remove != want.Remove {
				b.Errorf("%s found %d add, %d change, %d remove; the drift makes %d, %d, %d",
					prov, got.Add, got.Change, got.Remove, want.Add, want.Change, want.Remove)
			}
		}
		if n := final.items(); n != 0 {
			b.Fatalf("not converged: the report after the repair finds %d differences\n%s", n, final.describe(20))
		}
		if n := repaired.remaining(); n != 0 {
			b.Fatalf("the repair left %d differences\n%s", n, repaired.describe(20))
		}
		b.ReportMetric(detected.elapsed.Seconds(), "detect-seconds")
		b.ReportMetric(repaired.elapsed.Seconds(), "repair-seconds")
		b.ReportMetric(float64(detected.items()), "items-found")
		for _, prov := range events.Providers {
			b.ReportMetric(float64(detected.calls[prov].total), prov+"-calls-detect")
			b.ReportMetric(float64(repaired.calls[prov].total), prov+"-calls-repair")
			b.ReportMetric(float64(detected.calls[prov].limited+repaired.calls[prov].limited), prov+"-429s")
		}
		b.StartTimer()
	}
}

// reconcileWorld is the four fakes with 10,000 people, and the all-in-one's
// environment pointing at them.
type reconcileWorld struct {
	okta    *oktafake.Fake
	gitlab  *gitlabfake.Fake
	github  *githubfake.Fake
	console *consolefake.Fake
	faults  map[string]*fakehttp.Faults
	oktaIDs []string
	glIDs   []int64
	env     map[string]string
}

const (
	rwPeople   = 10000
	rwProjects = 10
	rwCompany  = "acme"
)

// rwLimits are the rate limits every fake enforces (fakehttp: fixed
// windows, the provider's own headers and refusal).
var rwLimits = []struct {
	provider string
	n        int
	per      time.Duration
	why      string
}{
	{events.ProviderOkta, 600, time.Minute, "X-Rate-Limit-*, 429; the last published quota of /api/v1/users, here one bucket for every endpoint"},
	{events.ProviderGitLab, 2000, time.Minute, "RateLimit-*, 429; GitLab.com's authenticated API limit per user"},
	{events.ProviderGitHub, 5000, time.Hour, "x-ratelimit-*, 403 at 0; GitHub's primary limit per token"},
	{events.ProviderConsole, 3000, time.Minute, "Retry-After, 429; the Console publishes no limit: assumed (at 1,000/min a report fails: the Console sends no quota to pace by)"},
}

func rwPerson(i int) (id, email, login, project string) {
	id = fmt.Sprintf("u%05d", i)
	return id, id + "@example.com", id + "-gh", fmt.Sprintf("p%d", i%rwProjects)
}

func newReconcileWorld(b *testing.B) *reconcileWorld {
	const oktaToken, glToken, ghToken, client, secret = "bench-okta-token", "bench-gitlab-token", "bench-github-token", "idsync-bench", "bench-console-secret"
	w := &reconcileWorld{okta: oktafake.New(oktaToken), gitlab: gitlabfake.New(glToken), github: githubfake.New(), console: consolefake.New()}
	w.faults = map[string]*fakehttp.Faults{
		events.ProviderOkta: w.okta.Faults(), events.ProviderGitLab: w.gitlab.Faults(),
		events.ProviderGitHub: w.github.Faults(), events.ProviderConsole: w.console.Faults(),
	}
	w.console.AddServiceAccount(client, secret)
	w.github.AddToken(ghToken)
	w.github.AddOrg(rwCompany)
	all := w.okta.AddGroup("console-" + rwCompany)
	groups := map[string]string{}
	for k := range rwProjects {
		pid := fmt.Sprintf("p%d", k)
		w.console.AddProject(rwCompany, pid, "Project "+pid)
		groups[pid] = w.okta.AddGroup("console-" + rwCompany + "-" + pid)
		w.gitlab.AddGroup(rwCompany + "/" + pid)
		w.github.AddTeam(rwCompany, pid)
	}
	var ids strings.Builder
	ids.WriteString("email,login\n")
	for i := range rwPeople {
		id, email, login, pid := rwPerson(i)
		w.console.AddPlatformUser(id, email)
		w.console.BindCompany(rwCompany, id, "guest")
		w.console.BindProject(rwCompany, id, pid, "developer")
		oid := w.okta.AddUser(email, id, "Example")
		w.okta.AddMember(all, oid)
		w.okta.AddMember(groups[pid], oid)
		w.oktaIDs = append(w.oktaIDs, oid)
		gid := w.gitlab.AddUser(gitlabfake.User{Username: id, Email: email}).ID
		w.gitlab.SetMember(rwCompany+"/"+pid, gid, gitlabfake.Developer)
		w.glIDs = append(w.glIDs, gid)
		w.github.AddUser(login, email)
		w.github.SetMember(rwCompany, login, githubfake.RoleMember)
		w.github.SetTeamMember(rwCompany, pid, login, githubfake.RoleMember)
		fmt.Fprintf(&ids, "%s,%s\n", email, login)
	}
	dir := b.TempDir()
	idFile := filepath.Join(dir, "github-identities.csv")
	if err := os.WriteFile(idFile, []byte(ids.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	serve := func(h http.Handler) string {
		srv := httptest.NewServer(h)
		b.Cleanup(srv.Close)
		return srv.URL
	}
	oktaURL := serve(w.okta.Handler())
	w.okta.SetBaseURL(oktaURL)
	w.env = map[string]string{
		"IDSYNC_DATA_DIR": dir, "IDSYNC_HTTP_ADDR": "127.0.0.1:0", "IDSYNC_NATS_LISTEN": "127.0.0.1:0",
		"IDSYNC_OKTA_HOOK_SECRET": oktaSecret, "IDSYNC_CONSOLE_WEBHOOK_SECRET": consoleSecret, "IDSYNC_LOG_LEVEL": "warn",
		"IDSYNC_CONSOLE_URL": serve(w.console.Handler()), "IDSYNC_CONSOLE_CLIENT_ID": client, "IDSYNC_CONSOLE_CLIENT_SECRET": secret,
		"IDSYNC_OKTA_ORG_URL": oktaURL, "IDSYNC_OKTA_API_TOKEN": oktaToken,
		"IDSYNC_GITLAB_URL": serve(w.gitlab.Handler()), "IDSYNC_GITLAB_TOKEN": glToken,
		"IDSYNC_GITHUB_API_URL": serve(w.github.Handler()) + w.github.BasePath(), "IDSYNC_GITHUB_TOKEN": ghToken,
		"IDSYNC_GITHUB_IDENTITY_FILE": idFile,
		"IDSYNC_CONSOLE_COMPANY_ID":   rwCompany, "IDSYNC_GITHUB_ORG": rwCompany, "IDSYNC_GITLAB_ROOT_GROUP": rwCompany,
		// Only on demand: no scheduled run may overlap the measured ones.
		"IDSYNC_RECONCILE_INTERVAL": "0",
		// The drift removes more people than the default guard (25 an
		// hour) lets through: it would pause the repair.
		"IDSYNC_REMOVAL_THRESHOLD": "1000",
	}
	return w
}

// limit (re)starts every fake's rate limit with a fresh window.
func (w *reconcileWorld) limit() {
	for _, l := range rwLimits {
		w.faults[l.provider].RateLimit(l.n, l.per)
	}
}

// drift changes about 1 % of the world by hand, in every provider, each
// change on people no other change touches:
//   - Okta: 100 people taken out of their project's group;
//   - GitLab: 100 people taken out of their project's group, 20 strangers
//     added to the groups;
//   - GitHub: 100 people taken out of their project's team, 20 strangers
//     added to the teams;
//   - 50 people deactivated in Okta (DEPROVISIONED) who keep their
//     Console, GitLab and GitHub access (the deprovisioning was lost);
//   - 20 people removed from the Console company by hand, who keep the
//     rest.
func (w *reconcileWorld) drift() {
	for i := range 100 {
		_, _, _, pid := rwPerson(i)
		gid, _ := w.okta.GroupID("console-" + rwCompany + "-" + pid)
		w.okta.RemoveMember(gid, w.oktaIDs[i])
	}
	for i := 100; i < 200; i++ {
		_, _, _, pid := rwPerson(i)
		w.gitlab.SetMember(rwCompany+"/"+pid, w.glIDs[i], 0)
	}
	for i := 200; i < 300; i++ {
		_, _, login, pid := rwPerson(i)
		w.github.RemoveTeamMember(rwCompany, pid, login)
	}
	for k := range 20 {
		pid := fmt.Sprintf("p%d", k%rwProjects)
		s := w.gitlab.AddUser(gitlabfake.User{Username: fmt.Sprintf("stranger%02d", k), Email: fmt.Sprintf("stranger%02d@elsewhere.example", k)})
		w.gitlab.SetMember(rwCompany+"/"+pid, s.ID, gitlabfake.Developer)
		w.github.SetTeamMember(rwCompany, pid, fmt.Sprintf("stranger%02d-gh", k), githubfake.RoleMember)
	}
	for i := 300; i < 350; i++ {
		w.okta.SetStatus(w.oktaIDs[i], okta.StatusDeprovisioned)
	}
	for i := 350; i < 370; i++ {
		id, _, _, _ := rwPerson(i)
		w.console.RemoveUser(rwCompany, id)
	}
}

// rwFound is what the drift makes each provider's report find, by
// operation.
var rwFound = map[string]reconcile.Counts{
	// 20 removed by hand back in (guest), 50 deactivated out.
	events.ProviderConsole: {Add: 20, Remove: 50},
	// 100 back in their project group; the 50 deactivated out of
	// console-acme and their project group, the 20 no longer in the
	// company out of both.
	events.ProviderOkta: {Add: 100, Remove: 140},
	// 100 back in their group; 20 strangers, the 50 deactivated and the
	// 20 no longer in the company out of their group; the 50 blocked.
	events.ProviderGitLab: {Add: 100, Remove: 140},
	// 100 back in their team; 20 strangers, the 50 deactivated and the 20
	// no longer in the company out of their team; the 50 out of acme.
	events.ProviderGitHub: {Add: 100, Remove: 140},
}

// calls are one fake's requests during a round (token endpoints aside).
type calls struct {
	total, limited int
	// backfill: Okta System Log reads (the backfill, not reconciliation).
	backfill int
}

// round is the four providers' answers to one request.
type round struct {
	req     reconcile.Request
	stages  [][]string
	elapsed time.Duration
	reports map[string]reconcile.Report
	took    map[string]time.Duration
	calls   map[string]calls
}

// round asks the providers' consumers for req, stage after stage, the
// providers of a stage at once (as `idsync reconcile` asks them all), and
// waits for their reports; the fakes' logs give the calls.
func (w *reconcileWorld) round(ctx context.Context, b *testing.B, p *process, nc *nats.Conn, req reconcile.Request, stages [][]string) round {
	before := map[string]int{}
	for prov, f := range w.faults {
		before[prov] = len(f.Requests())
	}
	r := round{req: req, stages: stages, reports: map[string]reconcile.Report{}, took: map[string]time.Duration{}, calls: map[string]calls{}}
	var mu sync.Mutex
	var errs []error
	began := time.Now()
	for _, stage := range stages {
		var wg sync.WaitGroup
		for _, prov := range stage {
			wg.Go(func() {
				rep, err := askRetry(ctx, nc, prov, req)
				mu.Lock()
				defer mu.Unlock()
				r.reports[prov], r.took[prov] = rep, time.Since(began)
				if err != nil {
					errs = append(errs, err)
				}
			})
		}
		wg.Wait()
	}
	r.elapsed = time.Since(began)
	for prov, f := range w.faults {
		var c calls
		for _, q := range f.Requests()[before[prov]:] {
			switch {
			case q.Exempt:
				continue
			case prov == events.ProviderOkta && strings.HasPrefix(q.Path, "/api/v1/logs"):
				c.backfill++
				continue
			}
			c.total++
			if q.Status == http.StatusTooManyRequests || (prov == events.ProviderGitHub && q.Status == http.StatusForbidden) {
				c.limited++
			}
		}
		r.calls[prov] = c
	}
	if err := errors.Join(errs...); err != nil {
		b.Fatalf("reconcile %+v: %v\n%s\nstderr (tail): %s", req, err, r.describe(10), tail(p.stderr.String(), 4000))
	}
	// A source that could not be read is a note, not a failed run: the
	// comparison it decides was skipped, and a report of 0 items proves
	// nothing.
	for _, prov := range events.Providers {
		for _, n := range r.reports[prov].Stats.Notes {
			if strings.Contains(n, "cannot be read") {
				b.Fatalf("reconcile %+v: %s compared less than everything: %s\n%s", req, prov, n, r.describe(10))
			}
		}
	}
	return r
}

// askRetry is reconcile.Ask, asked again while the consumer does not
// answer yet (it subscribes shortly after the all-in-one is ready).
func askRetry(ctx context.Context, nc *nats.Conn, prov string, req reconcile.Request) (reconcile.Report, error) {
	for {
		rep, err := reconcile.Ask(ctx, nc, events.DefaultNamespace, prov, req, reconcile.RequestOptions{})
		if !errors.Is(err, reconcile.ErrNoResponders) || ctx.Err() != nil {
			return rep, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (r round) items() int {
	n := 0
	for _, rep := range r.reports {
		n += rep.ItemCount
	}
	return n
}

func (r round) remaining() int {
	n := 0
	for _, rep := range r.reports {
		n += rep.Remaining
	}
	return n
}

// describe lists each report's summary, notes and first items.
func (r round) describe(max int) string {
	var s strings.Builder
	for _, prov := range events.Providers {
		rep, ok := r.reports[prov]
		if !ok {
			continue
		}
		fmt.Fprintf(&s, "%s\n", rep.Summary())
		for _, n := range rep.Stats.Notes {
			fmt.Fprintf(&s, "  note: %s\n", n)
		}
		for i, it := range rep.Items {
			if i == max {
				fmt.Fprintf(&s, "  … %d more\n", len(rep.Items)-max)
				break
			}
			fmt.Fprintf(&s, "  %s %s %s %s managed=%v %s %s: %s\n", it.Op, it.Action, it.Target.Name, it.Person.Email,
				it.Managed, it.Result, it.Detail, it.Reason)
		}
	}
	return s.String()
}

// table is the benchmark's summary, short enough for a benchmark's log
// (the testing package keeps ten lines): the limits, then per provider
// what each round found and cost.
func (w *reconcileWorld) table(clean, detected, repaired, final round) string {
	var s strings.Builder
	fmt.Fprintf(&s, "%d people: detect %.1fs, repair %.1fs (%s), %d found, %d left after\nrate limits (fixed windows, fresh when detect starts):",
		rwPeople, detected.elapsed.Seconds(), repaired.elapsed.Seconds(), stagesOf(repaired), detected.items(), final.items())
	for _, l := range rwLimits {
		fmt.Fprintf(&s, " %s %d/%s", l.provider, l.n, shortDur(l.per))
	}
	fmt.Fprintf(&s, "; Okta System Log reads by the backfill meanwhile, not counted: %d\n",
		clean.calls[events.ProviderOkta].backfill+detected.calls[events.ProviderOkta].backfill+repaired.calls[events.ProviderOkta].backfill)
	tw := tabwriter.NewWriter(&s, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "provider\tfound add/chg/rm\tdetect s\trepair s\trepair found/applied/unchanged\tcalls clean/detect/repair\t429s\tits Okta reads detect/repair\t")
	for _, prov := range events.Providers {
		d, rp := detected.reports[prov], repaired.reports[prov]
		fmt.Fprintf(tw, "%s\t%d %d/%d/%d\t%.1f\t%.1f\t%d/%d/%d\t%d/%d/%d\t%d\t%d/%d\t\n", prov,
			d.ItemCount, d.Counts.Add, d.Counts.Change, d.Counts.Remove,
			detected.took[prov].Seconds(), repaired.took[prov].Seconds(),
			rp.ItemCount, rp.Counts.Applied, rp.Counts.Unchanged,
			clean.calls[prov].total, detected.calls[prov].total, repaired.calls[prov].total,
			clean.calls[prov].limited+detected.calls[prov].limited+repaired.calls[prov].limited,
			d.Stats.Calls[events.ProviderOkta], rp.Stats.Calls[events.ProviderOkta])
	}
	_ = tw.Flush()
	s.WriteString("(s: from the start of the phase to the report; calls: to the provider, its fake's log; Okta reads: the consumer's comparison, its report)")
	return s.String()
}

// stagesOf says in which order a round asked the providers.
func stagesOf(r round) string {
	var parts []string
	for _, st := range r.stages {
		parts = append(parts, strings.Join(st, "+"))
	}
	return strings.Join(parts, ", then ")
}

func shortDur(d time.Duration) string {
	if d == time.Hour {
		return "h"
	}
	return "min"
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// startB runs the all-in-one for a benchmark, as start does for a test.
func startB(b *testing.B, env map[string]string) *process {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &process{stdout: &syncBuffer{}, stderr: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	go func() {
		p.done <- idsync.Run(ctx, []string{"run"}, func(k string) string { return env[k] }, p.stdout, p.stderr)
	}()
	httpRe, natsRe := regexp.MustCompile(`HTTP\s+(http://\S+)`), regexp.MustCompile(`embedded, (nats://\S+)`)
	deadline := time.Now().Add(60 * time.Second)
	for p.httpURL == "" || p.natsURL == "" {
		if m := httpRe.FindStringSubmatch(p.stdout.String()); m != nil {
			p.httpURL = m[1]
		}
		if m := natsRe.FindStringSubmatch(p.stdout.String()); m != nil {
			p.natsURL = m[1]
		}
		select {
		case err := <-p.done:
			b.Fatalf("run returned before it was ready: %v\nstderr: %s", err, tail(p.stderr.String(), 4000))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			b.Fatalf("no banner; stdout: %s\nstderr: %s", p.stdout.String(), tail(p.stderr.String(), 4000))
		}
	}
	b.Cleanup(func() {
		cancel()
		select {
		case err := <-p.done:
			if err != nil {
				b.Errorf("run returned %v", err)
			}
		case <-time.After(30 * time.Second):
			b.Error("run did not return after cancellation")
		}
	})
	waitReadyB(b, p.httpURL)
	return p
}
