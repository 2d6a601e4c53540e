package gitlabsync

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/idsync/idsync/pkg/console"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/okta"
	"github.com/idsync/idsync/pkg/reconcile"
	"github.com/idsync/idsync/services/gitlab-sync/internal/gitlab"
)

// reconciler is gitlab-sync's reconciliation (pkg/reconcile): the direct
// members of the GitLab groups the rules name against what the rules grant
// each Console user for their effective access, and GitLab users against
// their Okta users (offboarded when deactivated or deleted in Okta,
// created or unblocked when active). Hook deliveries get lost and people
// change GitLab by hand: this finds what the events missed.
type reconciler struct{ s *service }

// scan is what one Diff has read and found so far.
type scan struct {
	users userIndex
	// console are the Console users resolved to GitLab users, by GitLab id
	// (for the items about members no rule wants).
	console map[int64]consolePerson
	// people are everyone the desired state was computed for (lower-case
	// emails, Okta ids for logins that are not emails).
	people map[string]bool
	// partial: the groups a company manages could not be listed, so no
	// member is known to be unwanted anywhere: nothing is removed.
	partial bool
	// okta is Okta's users, read once (oktaRead) by whichever comparison
	// needs them first; oktaErr when they could not be read.
	okta     []okta.Person
	oktaIx   oktaIndex
	oktaRead bool
	oktaErr  error
	// deprovisioned counts Console users Okta deprovisioned.
	deprovisioned int
	st            *reconcile.Stats
	noted         map[string]bool
}

// consolePerson is a Console user resolved to a GitLab user, with why the
// rules want them in none of some groups (by target key).
type consolePerson struct {
	person reconcile.Person
	unmet  map[string]string
	// deprovisioned: Okta deprovisioned them, so no group wants them.
	deprovisioned bool
}

func (sc *scan) note(format string, args ...any) {
	n := fmt.Sprintf(format, args...)
	if !sc.noted[n] {
		sc.noted[n] = true
		sc.st.Notes = append(sc.st.Notes, n)
	}
}

// userIndex is every GitLab user, by id and by lower-case email.
type userIndex struct {
	all     []gitlab.User
	byID    map[int64]gitlab.User
	byEmail map[string]gitlab.User
}

func indexUsers(users []gitlab.User) userIndex {
	ix := userIndex{all: users, byID: make(map[int64]gitlab.User, len(users)), byEmail: make(map[string]gitlab.User, len(users))}
	sort.Slice(ix.all, func(i, j int) bool { return ix.all[i].ID < ix.all[j].ID })
	for _, u := range ix.all {
		ix.byID[u.ID] = u
		if u.Email != "" {
			ix.byEmail[strings.ToLower(u.Email)] = u
		}
	}
	return ix
}

// Diff reads every GitLab user, the direct members of every group the
// rules manage, the Console companies' users with their effective access
// and the Okta users, each listing to its last page, and returns what
// differs. The calls it makes to GitLab, the Console and Okta are counted
// in Stats.Calls.
func (r reconciler) Diff(ctx context.Context) (items []reconcile.Item, st reconcile.Stats, err error) {
	var glCalls, consoleCalls, oktaCalls atomic.Int64
	ctx = okta.WithCallCounter(console.WithCallCounter(gitlab.WithCallCounter(ctx, &glCalls), &consoleCalls), &oktaCalls)
	// Okta's users are read in full, through a quota the other sync
	// consumers spend too: wait for the resets rather than skip the
	// comparison with Okta (a note nobody reads, and no offboarding).
	ctx = okta.WaitForQuota(ctx, reconcile.QuotaWait)
	defer func() {
		st.Calls = map[string]int64{Provider: glCalls.Load()}
		if n := consoleCalls.Load(); n > 0 {
			st.Calls[events.ProviderConsole] = n
		}
		if n := oktaCalls.Load(); n > 0 {
			st.Calls[events.ProviderOkta] = n
		}
	}()
	if r.s.dir == nil {
		st.Notes = append(st.Notes, "GitLab is not configured (IDSYNC_GITLAB_URL, IDSYNC_GITLAB_TOKEN): its state cannot be read, so nothing is compared")
		return nil, st, nil
	}
	users, err := r.s.dir.Users(ctx)
	if err != nil {
		return nil, st, fmt.Errorf("gitlab-sync: reconcile: listing GitLab users: %w", err)
	}
	sc := &scan{users: indexUsers(users), console: map[int64]consolePerson{}, people: map[string]bool{}, st: &st, noted: map[string]bool{}}
	if items, err = r.groupItems(ctx, sc); err != nil {
		return nil, st, err
	}
	lifecycle, err := r.userItems(ctx, sc)
	if err != nil {
		return nil, st, err
	}
	items = append(items, lifecycle...)
	sortItems(items)
	st.People = len(sc.people)
	return items, st, nil
}

// sortItems orders items by provider object, then person.
func sortItems(items []reconcile.Item) {
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i], items[j]
		switch {
		case a.Target.Type != b.Target.Type:
			return a.Target.Type < b.Target.Type
		case a.Target.Name != b.Target.Name:
			return a.Target.Name < b.Target.Name
		case a.Person.Email != b.Person.Email:
			return strings.ToLower(a.Person.Email) < strings.ToLower(b.Person.Email)
		case a.Person.ProviderID != b.Person.ProviderID:
			return a.Person.ProviderID < b.Person.ProviderID
		}
		return a.RuleID < b.RuleID
	})
}

// listed shortens a list of names for a note.
func listed(names []string) string {
	const max = 10
	sort.Strings(names)
	if len(names) > max {
		return strings.Join(names[:max], ", ") + fmt.Sprintf(" and %d more", len(names)-max)
	}
	return strings.Join(names, ", ")
}
