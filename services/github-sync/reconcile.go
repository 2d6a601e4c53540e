package githubsync

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/idsync/idsync/pkg/console"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/okta"
	"github.com/idsync/idsync/pkg/plan"
	"github.com/idsync/idsync/pkg/reconcile"
	ghapi "github.com/idsync/idsync/services/github-sync/internal/github"
)

// reconciler is github-sync's reconcile.Reconciler: it compares the
// organization and team memberships the rules want for every user of the
// reconciled Console companies (and, with Okta as a source, who must leave
// because Okta deprovisioned or deleted them) with what GitHub holds, and
// converges the differences through the event path's code.
type reconciler struct {
	s *service

	mu sync.Mutex
	// invites holds, from the last Diff, every target wanted for each
	// person invited by email (user key email:<address>): GitHub cannot
	// edit an invitation, so applying one item re-sends the invitation
	// with all of them, not with that item's target alone.
	invites map[string][]plan.Target
}

func newReconciler(s *service) *reconciler {
	return &reconciler{s: s, invites: map[string][]plan.Target{}}
}

// Diff implements reconcile.Reconciler. A company or an Okta listing that
// cannot be read is a note, and then nothing is reported missing or
// unwanted on what it decides (an incomplete desired state must not turn
// into removals); a GitHub listing that fails fails the run.
func (r *reconciler) Diff(ctx context.Context) ([]reconcile.Item, reconcile.Stats, error) {
	var ghCalls, consoleCalls, oktaCalls atomic.Int64
	ctx = okta.WithCallCounter(console.WithCallCounter(ghapi.WithCallCounter(ctx, &ghCalls), &consoleCalls), &oktaCalls)
	// Okta's users are read in full, through a quota the other sync
	// consumers spend too: wait for the resets rather than skip looking
	// for the people Okta deprovisioned.
	ctx = okta.WaitForQuota(ctx, reconcile.QuotaWait)
	sc := &scan{r: r, noted: map[string]bool{}}
	items, err := sc.run(ctx)
	// What the scan cost, against each provider's rate limit.
	sc.st.Calls = map[string]int64{Provider: ghCalls.Load()}
	for p, n := range map[string]int64{events.ProviderConsole: consoleCalls.Load(), events.ProviderOkta: oktaCalls.Load()} {
		if n > 0 {
			sc.st.Calls[p] = n
		}
	}
	return items, sc.st, err
}

// run is Diff's scan.
func (sc *scan) run(ctx context.Context) ([]reconcile.Item, error) {
	r := sc.r
	if r.s.gh == nil {
		sc.note("no GitHub credentials configured: GitHub's state cannot be read, so nothing is compared")
		return nil, nil
	}
	ids, err := readLogins(ctx, r.s.ids)
	if err != nil {
		return nil, err
	}
	sc.ids, sc.gh = ids, newActual(r.s.gh)
	for _, step := range []func(context.Context) error{sc.readOkta, sc.desire, sc.compare, sc.lifecycle} {
		if err := step(ctx); err != nil {
			return nil, err
		}
	}
	items := sc.result()
	r.mu.Lock()
	r.invites = sc.invitePlans()
	r.mu.Unlock()
	sc.st.People = len(sc.people)
	sc.st.Targets = sc.gh.listed()
	return items, nil
}

// scan is one Diff's state.
type scan struct {
	r   *reconciler
	ids logins
	gh  *actual
	st  reconcile.Stats
	// okta indexes Okta's users by address and login; nil when Okta is
	// not a source in this run.
	okta map[string]okta.Person
	// noted dedupes Stats.Notes.
	noted map[string]bool

	// targets are the managed targets by key: what a rule names in a
	// reconciled company (the first rule naming it manages it).
	targets map[string]plan.Target
	// wanted: target key → lower-cased user key → what is wanted.
	wanted map[string]map[string]want
	// inOrg: lower-cased organization → user keys wanted in it or in one
	// of its teams (a team membership implies the organization's).
	inOrg map[string]map[string]bool
	// incomplete are target keys whose desired state could not be read in
	// full; allPartial is set when even the managed targets are unknown.
	incomplete map[string]bool
	allPartial bool
	people     map[string]bool
	// blocked counts Console users Okta deprovisioned.
	blocked int

	items []reconcile.Item
	// leaving: lower-cased organization → user keys a lifecycle item
	// removes from it (their adds and changes there are dropped).
	leaving map[string]map[string]bool
	life    []reconcile.Item
}

type want struct {
	t      plan.Target
	person reconcile.Person
}

func (sc *scan) note(s string) {
	if !sc.noted[s] {
		sc.noted[s] = true
		sc.st.Notes = append(sc.st.Notes, s)
	}
}

// result merges the membership and lifecycle items: a person Okta says
// must leave an organization gets no add or change there, and a lifecycle
// removal replaces the membership removal of the same person.
func (sc *scan) result() []reconcile.Item {
	dup := map[string]bool{}
	for _, it := range sc.life {
		dup[itemKey(it)] = true
	}
	out := slices.Clone(sc.life)
	for _, it := range sc.items {
		org := strings.ToLower(orgOf(it.Target.Type, it.Target.Name))
		user := strings.ToLower(it.Person.ProviderID)
		switch {
		case it.Op != reconcile.OpRemove && sc.leaving[org][user]:
		case dup[itemKey(it)]:
		default:
			out = append(out, it)
		}
	}
	slices.SortStableFunc(out, func(a, b reconcile.Item) int {
		return cmp.Or(
			cmp.Compare(a.Target.Key, b.Target.Key),
			cmp.Compare(a.Target.Type, b.Target.Type),
			cmp.Compare(strings.ToLower(a.Person.ProviderID), strings.ToLower(b.Person.ProviderID)),
			cmp.Compare(a.Action, b.Action),
			cmp.Compare(a.Target.ID, b.Target.ID),
		)
	})
	return out
}

// itemKey identifies what an item acts on, to find the same removal found
// twice (by the membership comparison and by the lifecycle check).
func itemKey(it reconcile.Item) string {
	return strings.Join([]string{it.Action, it.Target.Key, it.Target.ID, strings.ToLower(it.Person.ProviderID)}, "\x00")
}

// invitePlans are the targets wanted for each person invited by email.
func (sc *scan) invitePlans() map[string][]plan.Target {
	out := map[string][]plan.Target{}
	for _, byUser := range sc.wanted {
		for user, w := range byUser {
			if _, ok := emailOf(user); ok {
				out[user] = append(out[user], w.t)
			}
		}
	}
	for _, ts := range out {
		slices.SortFunc(ts, func(a, b plan.Target) int { return cmp.Compare(a.Key, b.Key) })
	}
	return out
}
