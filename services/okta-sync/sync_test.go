package oktasync_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/console"
	"github.com/idsync/idsync/pkg/consolefake"
	"github.com/idsync/idsync/pkg/dlq"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/guard"
	"github.com/idsync/idsync/pkg/okta"
	"github.com/idsync/idsync/pkg/oktafake"
	"github.com/idsync/idsync/pkg/reconcile"
	"github.com/idsync/idsync/pkg/syncsvc"
	"github.com/idsync/idsync/pkg/syncsvc/synctest"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
	oktasync "github.com/idsync/idsync/services/okta-sync"
)

const rules = `version: 1
rules:
  - id: company-members
    scope: {event: console.update.user.permission}
    requirements: {necessaryPermissions: [console.company.view]}
    actions: {okta: {groups: ["console-{{companyId}}"]}}
  - id: project-devs
    scope: {event: console.update.user.permission}
    requirements: {necessaryPermissions: [console.project.configuration.update]}
    actions: {okta: {groups: ["console-{{companyId}}-{{projectId}}-devs"]}}
  - id: prod-deployers
    scope: {event: console.update.user.permission, evaluateForEachEnvironment: true, isProduction: true}
    requirements: {necessaryPermissions: [console.environment.deploy.trigger]}
    actions: {okta: {groups: ["deploy-{{projectId}}-{{environmentId}}"]}}
  - id: project-groups
    scope: {event: console.create.project}
    actions: {okta: {groups: ["console-{{companyId}}-{{projectId}}-devs"]}}
`

var (
	added   = eventsv1.PermissionChange_PERMISSION_CHANGE_ADDED
	edited  = eventsv1.PermissionChange_PERMISSION_CHANGE_EDITED
	removed = eventsv1.PermissionChange_PERMISSION_CHANGE_REMOVED
)

type env struct {
	okta    *oktafake.Fake
	console *consolefake.Fake
	h       *synctest.Harness
	ann     string // Okta id of ann@example.com
}

type opts struct {
	dryRun    bool
	noConsole bool
	protected []string
	threshold int
	bench     bool // the consumer runtime's production settings
}

func start(t testing.TB, o opts) env {
	t.Helper()
	of := oktafake.New("okta-token")
	osrv := httptest.NewServer(of.Handler())
	t.Cleanup(osrv.Close)
	of.SetBaseURL(osrv.URL)
	cf := consolefake.New()
	cf.AddServiceAccount("idsync", "console-sa-secret-123")
	csrv := httptest.NewServer(cf.Handler())
	t.Cleanup(csrv.Close)
	cf.AddPlatformUser("ann", "ann@example.com")
	cf.AddProject("acme", "p1", "Payments",
		consolefake.Environment{EnvID: "dev"}, consolefake.Environment{EnvID: "prod", IsProduction: true})
	for _, g := range []string{"console-acme", "console-acme-p1-devs", "deploy-p1-prod", "deploy-p1-dev", "hand-made"} {
		of.AddGroup(g)
	}
	e := env{okta: of, console: cf, ann: of.AddUser("ann@example.com", "Ann", "Lee")}
	oc := okta.Config{OrgURL: osrv.URL, APIToken: config.Secret("okta-token"), Timeout: 5 * time.Second}
	cfg := oktasync.Config{Sync: syncsvc.Config{Settings: syncsvc.Settings{Okta: oc}}}
	// Reconciliation covers company acme (the rules name no company), on
	// demand only.
	so := synctest.Options{Rules: rules, DryRun: o.dryRun, Okta: oc, Reconcile: reconcile.Config{Companies: []string{"acme"}}}
	if o.bench {
		so.Settings = synctest.BenchSettings(t).Settings
	}
	if !o.noConsole {
		so.Console = console.Config{URL: csrv.URL, ClientID: "idsync", ClientSecret: "console-sa-secret-123", Timeout: 5 * time.Second}
	}
	so.Guard = guard.Config{Protected: o.protected, Threshold: max(o.threshold, 1000), Window: time.Hour, RetryDelay: 200 * time.Millisecond}
	if o.threshold > 0 {
		so.Guard.Threshold = o.threshold
	}
	e.h = synctest.Start(t, oktasync.Spec(cfg, nil), so)
	return e
}

// step is one change in the Console followed by its event.
type step struct {
	console func(c *consolefake.Fake)
	event   events.Event
}

func perm(id string, change eventsv1.PermissionChange, role, project, envID string) events.Event {
	return synctest.PermissionEvent(id, change, "ann", "ann@example.com", role, "acme", project, envID)
}

func TestConsoleUpdateUserPermission(t *testing.T) {
	tests := []struct {
		name   string
		opts   opts
		before func(e env)
		steps  []step
		// groups: expected members of each group after the last step.
		groups map[string][]string
		// last: outcomes of the last step (order as published).
		last []string
	}{
		{name: "company guest joins the company group only",
			steps:  []step{{func(c *consolefake.Fake) { c.BindCompany("acme", "ann", "guest") }, perm("e1", added, "guest", "", "")}},
			groups: map[string][]string{"console-acme": {"ann@example.com"}, "console-acme-p1-devs": nil},
			last:   []string{"group_member.add granted console-acme member"}},
		{name: "project developer joins the project group",
			steps:  []step{{func(c *consolefake.Fake) { c.BindProject("acme", "ann", "p1", "developer") }, perm("e1", added, "developer", "p1", "")}},
			groups: map[string][]string{"console-acme-p1-devs": {"ann@example.com"}, "console-acme": nil},
			last:   []string{"group_member.add granted console-acme-p1-devs member"}},
		{name: "maintainer deploys to production environments only",
			steps:  []step{{func(c *consolefake.Fake) { c.BindProject("acme", "ann", "p1", "maintainer") }, perm("e1", added, "maintainer", "p1", "")}},
			groups: map[string][]string{"console-acme-p1-devs": {"ann@example.com"}, "deploy-p1-prod": {"ann@example.com"}, "deploy-p1-dev": nil}},
		{name: "access through a Console group counts",
			steps: []step{{func(c *consolefake.Fake) {
				c.AddGroup("acme", "g1", "devs", "")
				c.BindGroupProject("acme", "g1", "p1", "developer")
				c.AddGroupMember("acme", "g1", "ann")
			}, perm("e1", added, "developer", "p1", "")}},
			groups: map[string][]string{"console-acme-p1-devs": {"ann@example.com"}}},
		{name: "role lowered: the managed membership is revoked",
			steps: []step{
				{func(c *consolefake.Fake) { c.BindProject("acme", "ann", "p1", "developer") }, perm("e1", added, "developer", "p1", "")},
				{func(c *consolefake.Fake) { c.BindProject("acme", "ann", "p1", "reporter") }, perm("e2", edited, "reporter", "p1", "")},
			},
			groups: map[string][]string{"console-acme-p1-devs": nil},
			last:   []string{"group_member.remove revoked console-acme-p1-devs member"}},
		{name: "removed from one group but still developer through another binding keeps access",
			steps: []step{
				{func(c *consolefake.Fake) {
					c.BindProject("acme", "ann", "p1", "developer")
					c.AddGroup("acme", "g1", "devs", "")
					c.BindGroupProject("acme", "g1", "p1", "developer")
					c.AddGroupMember("acme", "g1", "ann")
				}, perm("e1", added, "developer", "p1", "")},
				{func(c *consolefake.Fake) { c.RemoveGroupMember("acme", "g1", "ann") }, perm("e2", removed, "", "p1", "")},
			},
			groups: map[string][]string{"console-acme-p1-devs": {"ann@example.com"}},
			last:   []string{"group_member.add unchanged console-acme-p1-devs member"}},
		{name: "removed from the company: every managed group revoked, hand-made memberships kept",
			before: func(e env) { id, _ := e.okta.GroupID("hand-made"); e.okta.AddMember(id, e.ann) },
			steps: []step{
				{func(c *consolefake.Fake) {
					c.BindCompany("acme", "ann", "guest")
					c.BindProject("acme", "ann", "p1", "maintainer")
				}, perm("e1", added, "maintainer", "p1", "")},
				{func(c *consolefake.Fake) { c.RemoveUser("acme", "ann") }, perm("e2", removed, "", "", "")},
			},
			groups: map[string][]string{"console-acme": nil, "console-acme-p1-devs": nil, "deploy-p1-prod": nil, "hand-made": {"ann@example.com"}}},
		{name: "a membership added by hand before idsync is adopted, then revoked with the rule",
			before: func(e env) { id, _ := e.okta.GroupID("console-acme"); e.okta.AddMember(id, e.ann) },
			steps: []step{
				{func(c *consolefake.Fake) { c.BindCompany("acme", "ann", "guest") }, perm("e1", added, "guest", "", "")},
				{func(c *consolefake.Fake) { c.RemoveUser("acme", "ann") }, perm("e2", removed, "", "", "")},
			},
			groups: map[string][]string{"console-acme": nil}},
		{name: "protected account is not removed",
			opts: opts{protected: []string{"ann@example.com"}},
			steps: []step{
				{func(c *consolefake.Fake) { c.BindCompany("acme", "ann", "guest") }, perm("e1", added, "guest", "", "")},
				{func(c *consolefake.Fake) { c.RemoveUser("acme", "ann") }, perm("e2", removed, "", "", "")},
			},
			groups: map[string][]string{"console-acme": {"ann@example.com"}},
			last:   []string{"group_member.remove skipped console-acme member"}},
		{name: "dry-run plans and writes nothing",
			opts:   opts{dryRun: true},
			steps:  []step{{func(c *consolefake.Fake) { c.BindCompany("acme", "ann", "guest") }, perm("e1", added, "guest", "", "")}},
			groups: map[string][]string{"console-acme": nil},
			last:   []string{"group_member.add planned console-acme member"}},
		{name: "without the Console API grants follow the event and nothing is revoked",
			opts: opts{noConsole: true},
			steps: []step{
				{nil, perm("e1", added, "guest", "", "")},
				{nil, perm("e2", removed, "", "", "")},
			},
			groups: map[string][]string{"console-acme": {"ann@example.com"}},
			last:   []string{"access.verify skipped  "}},
		{name: "a group missing in Okta is an outcome",
			before: func(e env) {},
			steps: []step{{func(c *consolefake.Fake) {
				c.AddProject("acme", "p9", "New")
				c.BindProject("acme", "ann", "p9", "developer")
			}, perm("e1", added, "developer", "p9", "")}},
			last: []string{"group_member.add skipped console-acme-p9-devs member"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t, tc.opts)
			if tc.before != nil {
				tc.before(e)
			}
			for _, s := range tc.steps {
				if s.console != nil {
					s.console(e.console)
				}
				e.h.Publish(s.event)
				e.h.WaitSettled()
			}
			if tc.last != nil {
				all := e.h.Outcomes()
				got := synctest.Describe(lastStep(all, tc.steps[len(tc.steps)-1].event.ID))
				if !slices.Equal(got, tc.last) {
					t.Errorf("outcomes of the last step %q, want %q", got, tc.last)
				}
			}
			for g, want := range tc.groups {
				if got := e.okta.Members(g); !slices.Equal(got, want) {
					t.Errorf("group %s: members %v, want %v", g, got, want)
				}
			}
		})
	}
}

func lastStep(all []*eventsv1.Outcome, eventID string) []*eventsv1.Outcome {
	var out []*eventsv1.Outcome
	for _, o := range all {
		if o.GetEventId() == eventID {
			out = append(out, o)
		}
	}
	return out
}

func TestConsoleCreateProject(t *testing.T) {
	e := start(t, opts{})
	e.h.Publish(synctest.ProjectCreatedEvent("pc1", "acme", "p2", "Checkout"))
	e.h.Publish(synctest.ProjectCreatedEvent("pc2", "acme", "p1", "Payments"))
	e.h.WaitSettled()
	got := synctest.Describe(e.h.Outcomes())
	want := []string{"group.create granted console-acme-p2-devs ", "group.create unchanged console-acme-p1-devs "}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("outcomes %q, want %q", got, want)
	}
	if _, ok := e.okta.GroupID("console-acme-p2-devs"); !ok {
		t.Fatal("group not created")
	}
}

func TestSameEventThreeTimesOneChange(t *testing.T) {
	e := start(t, opts{})
	e.console.BindProject("acme", "ann", "p1", "developer")
	for i := range 3 {
		e.h.Publish(perm(fmt.Sprintf("dup-%d", i), added, "developer", "p1", ""))
	}
	e.h.WaitSettled()
	if w := e.okta.Faults().Writes(); w != 1 {
		t.Fatalf("%d writes to Okta for three deliveries, want 1", w)
	}
}

func TestRateLimitPermanentFailureAndReplay(t *testing.T) {
	e := start(t, opts{})
	e.console.BindCompany("acme", "ann", "guest")
	e.okta.Faults().FailNext(1, 429, "PUT", "/api/v1/groups/", time.Second)
	began := time.Now()
	e.h.Publish(perm("rl", added, "guest", "", ""))
	e.h.WaitSettled()
	if got := e.okta.Members("console-acme"); len(got) != 1 || time.Since(began) < time.Second {
		t.Fatalf("after a 429: members %v after %s", got, time.Since(began))
	}

	e.console.BindProject("acme", "ann", "p1", "developer")
	e.okta.Faults().FailNext(100, 403, "PUT", "/api/v1/groups/", 0)
	e.h.Publish(perm("perm", edited, "developer", "p1", ""))
	e.h.WaitSettled()
	letters := e.h.DeadLetters()
	if len(letters) != 1 || letters[0].Header.Get("Idsync-Dlq-Class") != "permanent" || !strings.Contains(letters[0].Header.Get("Idsync-Dlq-Reason"), "403") {
		t.Fatalf("dead letters %d", len(letters))
	}
	e.okta.Faults().ClearFailures()
	if n, err := dlq.New(e.h.Conn.JS, e.h.NS).Replay(context.Background(), dlq.Filter{Consumer: oktasync.Name}); err != nil || n != 1 {
		t.Fatalf("replay %d %v", n, err)
	}
	e.h.WaitSettled()
	if got := e.okta.Members("console-acme-p1-devs"); len(got) != 1 {
		t.Fatalf("not converged after replay: %v", got)
	}
}

func TestRemovalThresholdPauses(t *testing.T) {
	e := start(t, opts{threshold: 2})
	users := []string{"u1", "u2", "u3", "u4"}
	gid, _ := e.okta.GroupID("console-acme")
	for _, u := range users {
		e.console.AddPlatformUser(u, u+"@example.com")
		e.console.BindCompany("acme", u, "guest")
		e.okta.AddMember(gid, e.okta.AddUser(u+"@example.com", u, u))
	}
	for _, u := range users {
		e.h.Publish(synctest.PermissionEvent("add-"+u, added, u, u+"@example.com", "guest", "acme", "", ""))
	}
	e.h.WaitSettled()
	for _, u := range users {
		e.console.RemoveUser("acme", u)
		e.h.Publish(synctest.PermissionEvent("rm-"+u, removed, u, u+"@example.com", "", "acme", "", ""))
	}
	synctest.Eventually(t, "guard trips", 20*time.Second, func() bool { return len(e.h.Alerts()) == 1 })
	e.h.WaitEachHandled() // the paused guard's verdicts, not a race, decide what is left
	if left := len(e.okta.Members("console-acme")); left != 2 {
		t.Fatalf("%d members left, want 2", left)
	}
	if err := e.h.Deps.Guard.Resume(context.Background(), "operator"); err != nil {
		t.Fatal(err)
	}
	synctest.Eventually(t, "removals resume", 20*time.Second, func() bool { return len(e.okta.Members("console-acme")) == 0 })
}
