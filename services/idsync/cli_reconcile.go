package idsync

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/reconcile"
)

// ExitDrift is the exit status of `idsync reconcile` when differences
// remain (found and not, or not all, applied); 1 is an error, 0 no drift.
const ExitDrift = 3

// DriftError is returned by `idsync reconcile` when differences remain; its
// ExitCode (3) is the process's exit status.
type DriftError struct {
	// Remaining counts the items left, by provider.
	Remaining map[string]int
}

func (e *DriftError) Error() string {
	var parts []string
	total := 0
	for _, p := range events.Providers {
		if n := e.Remaining[p]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", p, n))
			total += n
		}
	}
	return fmt.Sprintf("drift remains: %d differences not applied (%s)", total, strings.Join(parts, ", "))
}

// ExitCode is the process's exit status (service.Main reads it).
func (e *DriftError) ExitCode() int { return ExitDrift }

// providerResult is one provider's answer.
type providerResult struct {
	provider string
	report   reconcile.Report
	err      error
}

// runReconcile is `idsync reconcile`.
func runReconcile(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("idsync reconcile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	list := fs.String("provider", strings.Join(events.Providers, ","), "providers to reconcile, comma-separated: console, okta, gitlab, github")
	apply := fs.Bool("apply", false, "converge what is found, through each consumer's code path and guards (default: only report)")
	removeUnmanaged := fs.Bool("remove-unmanaged", false, "with --apply, also remove members no rule wants that idsync did not grant (added by hand)")
	timeout := fs.Duration("timeout", 30*time.Minute, "how long to wait for the reports")
	env, rest, err := connectCLI(ctx, "idsync reconcile", args, getenv, stdout, stderr, fs)
	if err != nil {
		return err
	}
	defer env.close()
	if len(rest) > 0 {
		return fmt.Errorf("reconcile: unexpected argument %q", rest[0])
	}
	providers, err := parseProviders(*list)
	if err != nil {
		return err
	}
	if *removeUnmanaged && !*apply {
		return errors.New("reconcile: --remove-unmanaged removes only when applying; add --apply")
	}
	if *timeout <= 0 {
		return errors.New("reconcile: --timeout must be positive")
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req := reconcile.Request{Apply: *apply, RemoveUnmanaged: *removeUnmanaged}
	results := make([]providerResult, len(providers))
	ask := func(i int) {
		p := providers[i]
		rep, err := reconcile.Ask(ctx, env.conn.NC, env.ns, p, req, reconcile.RequestOptions{})
		if errors.Is(err, reconcile.ErrNoResponders) {
			err = fmt.Errorf("reconcile %s: no %s-sync answers on %s: start %s-sync (or the all-in-one, idsync run) and try again",
				p, p, reconcile.Subject(env.ns, p), p)
		}
		results[i] = providerResult{provider: p, report: rep, err: err}
	}
	for _, wave := range reconcileWaves(providers, *apply) {
		var wg sync.WaitGroup
		for _, i := range wave {
			wg.Go(func() { ask(i) })
		}
		wg.Wait()
	}
	if env.json {
		err = printReconcileJSON(stdout, results)
	} else {
		err = printReconcileTables(stdout, results)
	}
	if err != nil {
		return err
	}
	return reconcileStatus(results)
}

// reconcileWaves orders the requests, as indexes of providers: reports
// all at once, but an apply converges the Console first. The Console is
// the other three's source of truth (who is in the company, with which
// roles): applied beside them, console-sync re-adds people the others are
// removing at that moment, and a run that says it converged leaves
// differences the next report finds (the 10,000-person benchmark,
// services/idsync/reconcile_bench_test.go, showed 19 of 20).
func reconcileWaves(providers []string, apply bool) [][]int {
	var first, rest []int
	for i, p := range providers {
		if apply && p == events.ProviderConsole {
			first = append(first, i)
		} else {
			rest = append(rest, i)
		}
	}
	if len(first) == 0 {
		return [][]int{rest}
	}
	if len(rest) == 0 {
		return [][]int{first}
	}
	return [][]int{first, rest}
}

// parseProviders checks the --provider list.
func parseProviders(list string) ([]string, error) {
	var out []string
	for p := range strings.SplitSeq(list, ",") {
		p = strings.TrimSpace(p)
		switch {
		case p == "":
			continue
		case !slices.Contains(events.Providers, p):
			return nil, fmt.Errorf("reconcile: unknown provider %q (want %s)", p, strings.Join(events.Providers, ", "))
		case slices.Contains(out, p):
			return nil, fmt.Errorf("reconcile: provider %q given twice", p)
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("reconcile: --provider names no provider (want %s)", strings.Join(events.Providers, ", "))
	}
	return out, nil
}

// reconcileStatus is the command's outcome: an error if any provider
// failed (exit 1), a DriftError if differences remain (exit 3), else nil.
func reconcileStatus(results []providerResult) error {
	var errs []error
	drift := map[string]int{}
	for _, r := range results {
		if r.err != nil {
			errs = append(errs, r.err)
			continue
		}
		if r.report.Remaining > 0 {
			drift[r.provider] = r.report.Remaining
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if len(drift) > 0 {
		return &DriftError{Remaining: drift}
	}
	return nil
}

// reconcileJSON is `idsync reconcile --json`: every provider's whole report
// (every item), the errors, and the differences left.
type reconcileJSON struct {
	Reports   []reconcile.Report `json:"reports"`
	Errors    []reconcileErrJSON `json:"errors"`
	Remaining int                `json:"remaining"`
}

type reconcileErrJSON struct {
	Provider string `json:"provider"`
	Code     string `json:"code,omitempty"`
	Message  string `json:"message"`
}

func printReconcileJSON(w io.Writer, results []providerResult) error {
	out := reconcileJSON{Reports: []reconcile.Report{}, Errors: []reconcileErrJSON{}}
	for _, r := range results {
		if r.report.ID != "" {
			out.Reports = append(out.Reports, r.report)
			out.Remaining += r.report.Remaining
		}
		if r.err != nil {
			e := reconcileErrJSON{Provider: r.provider, Message: r.err.Error()}
			var re *reconcile.ReplyError
			if errors.As(r.err, &re) {
				e.Code = string(re.Code)
			}
			out.Errors = append(out.Errors, e)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func printReconcileTables(w io.Writer, results []providerResult) error {
	for i, r := range results {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if r.report.ID == "" {
			fmt.Fprintf(w, "%s-sync: error: %v\n", r.provider, r.err)
			continue
		}
		if err := printReport(w, r.report); err != nil {
			return err
		}
		if r.err != nil {
			fmt.Fprintf(w, "error: %v\n", r.err)
		}
	}
	return nil
}

// printReport writes one provider's report: a heading, the counts, the
// items as a table and the scan's notes.
func printReport(w io.Writer, rep reconcile.Report) error {
	mode := "report only"
	switch {
	case rep.Apply && rep.DryRun:
		mode = "applied in dry-run (planned only)"
	case rep.Apply:
		mode = "applied"
	}
	fmt.Fprintf(w, "%s (%s): %s, %s, %s in %s\n", rep.Consumer, rep.Provider, rep.ID, rep.Trigger, mode,
		rep.Finished.Sub(rep.Started).Round(time.Millisecond))
	c := rep.Counts
	fmt.Fprintf(w, "%d differences: %d add, %d change, %d remove", rep.ItemCount, c.Add, c.Change, c.Remove)
	if rep.Apply {
		fmt.Fprintf(w, "; %d applied, %d unchanged, %d planned, %d skipped, %d paused, %d failed", c.Applied, c.Unchanged, c.Planned, c.Skipped, c.Paused, c.Failed)
	}
	fmt.Fprintf(w, "; %d remaining\n", rep.Remaining)
	scan := fmt.Sprintf("scanned %d people, %d targets", rep.Stats.People, rep.Stats.Targets)
	for _, p := range slices.Sorted(maps.Keys(rep.Stats.Calls)) {
		scan += fmt.Sprintf(", %d %s calls", rep.Stats.Calls[p], p)
	}
	fmt.Fprintln(w, scan)
	if rep.Interrupted {
		fmt.Fprintln(w, "INTERRUPTED: the run stopped before its end; items not reached are pending")
	}
	if len(rep.Items) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "OP\tACTION\tTARGET\tPERSON\tROLE (NOW → WANTED)\tRULE\tRESULT\tDETAIL")
		for _, it := range rep.Items {
			op := string(it.Op)
			if it.Op == reconcile.OpRemove && !it.Managed {
				op += " (unmanaged)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s %s\t%s\t%s\t%s\t%s\t%s\n", op, it.Action, it.Target.Type, it.Target.Name, personOf(it.Person),
				roleChange(it), dash(it.RuleID), resultOf(it.Result), detailOf(it))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, n := range rep.Stats.Notes {
		fmt.Fprintln(w, "note: "+n)
	}
	return nil
}

func personOf(p reconcile.Person) string {
	for _, s := range []string{p.Email, p.Login, p.ProviderID, p.SourceID} {
		if s != "" {
			return s
		}
	}
	return "-"
}

func roleChange(it reconcile.Item) string {
	if it.Role == "" && it.Current == "" {
		return "-"
	}
	return dash(it.Current) + " → " + dash(it.Role)
}

func resultOf(r reconcile.Result) string {
	if r == reconcile.Pending {
		return "pending"
	}
	return string(r)
}

func detailOf(it reconcile.Item) string {
	switch {
	case it.Detail != "" && it.Reason != "":
		return it.Reason + "; " + it.Detail
	case it.Detail != "":
		return it.Detail
	}
	return it.Reason
}
