// Package reconcile compares what the rules and the sources of truth want
// (Console company and project users and roles, Okta users and their status)
// with what each provider actually holds, and reports the differences as
// items: add, change, remove, each with the rule that wants it. Applying a
// report converges each item through the sync consumer's own code path and
// guards (protected accounts, the removal threshold), so a reconciliation
// can do nothing an event could not.
//
// Hook deliveries are best-effort (Okta drops deliveries past its daily cap
// and sends nothing while a hook is deactivated; Console webhooks are not
// retried), and people change providers by hand: without a periodic
// comparison a missed change would stay missed forever.
//
// Each sync consumer implements Reconciler for its provider; the Runner
// (runner.go) schedules it, answers on-demand requests (`idsync reconcile`),
// publishes the report as an event and applies it.
package reconcile

import (
	"context"

	"github.com/idsync/idsync/pkg/events"
)

// Op is what an item asks of the provider.
type Op string

// Ops.
const (
	// OpAdd grants what is missing: a membership, a user, an invitation.
	OpAdd Op = "add"
	// OpChange changes what exists: a role, a blocked user to unblock.
	OpChange Op = "change"
	// OpRemove takes away what no rule wants: a membership, an active
	// account of someone deleted at the source (block, remove).
	OpRemove Op = "remove"
)

// Result is what applying an item did.
type Result string

// Results.
const (
	// Pending: reported, not applied (a report without --apply).
	Pending Result = ""
	// Applied: the provider now matches.
	Applied Result = "applied"
	// AlreadyConverged: the provider matched when the item was applied
	// (something else converged it since the diff).
	AlreadyConverged Result = "unchanged"
	// Skipped: deliberately not applied (protected account, unmanaged
	// member with removal of unmanaged members off, dry-run); Detail says why.
	Skipped Result = "skipped"
	// Planned: dry-run, what would be done.
	Planned Result = "planned"
	// Paused: the removal guard tripped; the item and every later removal
	// wait for an operator (`idsync guard resume`).
	Paused Result = "paused"
	// Failed: the provider refused; Detail has the error.
	Failed Result = "failed"
)

// Person is who an item is about.
type Person struct {
	// SourceID is the id at the source of truth (Okta user id, Console user id).
	SourceID string `json:"sourceId,omitempty"`
	Email    string `json:"email,omitempty"`
	Login    string `json:"login,omitempty"`
	// ProviderID is the person's id or login at the provider.
	ProviderID string `json:"providerId,omitempty"`
}

// Target is the provider object an item is about.
type Target struct {
	// Type is group, team, organization, company, user, invitation.
	Type string `json:"type"`
	// Key is the ledger's key of a membership target ("group:acme/dev");
	// empty for a user's lifecycle.
	Key string `json:"key,omitempty"`
	// Name is the human name or path (acme/dev, acme/devs).
	Name string `json:"name"`
	ID   string `json:"id,omitempty"`
}

// Item is one difference between desired and actual state.
type Item struct {
	Provider string `json:"provider"`
	Op       Op     `json:"op"`
	// Action is the outcome action that converges it, from events.Actions
	// (group_member.add, user.block, org_member.remove…).
	Action string `json:"action"`
	Target Target `json:"target"`
	Person Person `json:"person"`
	// Role is the role the rules want ("" when removing or role-less);
	// Current is the role held now ("" when not a member).
	Role    string `json:"role,omitempty"`
	Current string `json:"current,omitempty"`
	// RuleID is the rule that wants the change; for a member no rule wants,
	// the rule that manages the target.
	RuleID string `json:"ruleId,omitempty"`
	// Context is the Console context the rule was evaluated in, when any.
	CompanyID     string `json:"companyId,omitempty"`
	ProjectID     string `json:"projectId,omitempty"`
	EnvironmentID string `json:"environmentId,omitempty"`
	// Managed is true when idsync's ledger holds the membership (it granted
	// it); a member to remove that is not Managed was added outside idsync.
	Managed bool `json:"managed"`
	// Reason says why the item differs, for people.
	Reason string `json:"reason"`
	// Result and Detail say what applying it did.
	Result Result `json:"result,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// Stats describe the scan behind a report.
type Stats struct {
	// People is how many people the desired state was computed for.
	People int `json:"people"`
	// Targets is how many provider objects (groups, teams, orgs, companies)
	// were listed.
	Targets int `json:"targets"`
	// Calls counts provider API calls, by provider (okta, console…), that
	// the scan and the apply made.
	Calls map[string]int64 `json:"calls,omitempty"`
	// Notes are things the scan could not do, for people (a company that
	// could not be read, a rule that names a group that does not exist).
	Notes []string `json:"notes,omitempty"`
}

// Options steer one reconciliation.
type Options struct {
	// Apply converges the items; without it the report is only a report.
	Apply bool
	// RemoveUnmanaged lets Apply remove members no rule wants that idsync
	// did not grant (added by hand); without it they are reported and
	// skipped.
	RemoveUnmanaged bool
}

// Reconciler is one provider's reconciliation, implemented by its sync
// consumer.
type Reconciler interface {
	// Diff computes the desired state and compares it with the provider's
	// actual state, paging through every listing to its end. Items come in
	// a stable order (provider object, then person). An item Diff already
	// decides (Result set, e.g. Skipped for a person it cannot resolve) is
	// reported as it is and never passed to Apply. An error fails the run:
	// its items are dropped, since differences computed against a partial
	// listing are not differences.
	Diff(ctx context.Context) ([]Item, Stats, error)
	// Apply converges one item through the consumer's code path and
	// guards, and returns it with Result and Detail set. An error is one
	// that should stop the run (guard.ErrPaused, a lost connection);
	// a provider refusing one item is Failed, not an error. ev is the
	// report event (type idsync.reconcile.report): the outcomes Apply
	// publishes through syncsvc.Deps.Outcomes name it as their cause.
	Apply(ctx context.Context, ev events.Event, it Item, opts Options) (Item, error)
}
