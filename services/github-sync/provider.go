package githubsync

import (
	"strings"

	"github.com/idsync/idsync/pkg/plan"
	"github.com/idsync/idsync/pkg/rules"
)

// Target kinds, as the ledger keys and the outcomes name them.
const (
	KindOrg  = "org"
	KindTeam = "team"
)

// Roles.
const (
	RoleMember     = "member"
	RoleAdmin      = "admin"
	RoleMaintainer = "maintainer"
)

// provider describes GitHub to the planner.
func provider() plan.Provider {
	return plan.Provider{Name: Provider, Targets: targets, Rank: rank}
}

// targets expands a rule's organizations (org:<org>) and teams
// (team:<org>/<slug>) in a context.
func targets(r *rules.Rule, c rules.Context) []plan.Target {
	a := r.Actions.GitHub
	if a == nil {
		return nil
	}
	var out []plan.Target
	for _, o := range a.Organizations {
		name := c.Expand(o.Name)
		out = append(out, plan.Target{Key: plan.Key(KindOrg, name), Kind: KindOrg, Name: name, Role: o.Role, RuleID: r.ID, Context: c})
	}
	for _, t := range a.Teams {
		name := c.Expand(t.Organization) + "/" + c.Expand(t.Name)
		out = append(out, plan.Target{Key: plan.Key(KindTeam, name), Kind: KindTeam, Name: name, Role: t.Role, RuleID: r.ID, Context: c})
	}
	return out
}

// rank orders roles within a kind: member below admin (org) and maintainer (team).
func rank(role string) int {
	switch role {
	case RoleMember:
		return 1
	case RoleAdmin, RoleMaintainer:
		return 2
	}
	return 0
}

// splitKey splits a target key "<kind>:<name>" (plan.Key).
func splitKey(key string) (kind, name string) {
	kind, name, _ = strings.Cut(key, ":")
	return kind, name
}

// splitTeam splits a team target name "org/slug".
func splitTeam(name string) (org, slug string) {
	org, slug, _ = strings.Cut(name, "/")
	return org, slug
}

// orgOf is the organization a target name belongs to.
func orgOf(kind, name string) string {
	if kind == KindTeam {
		org, _ := splitTeam(name)
		return org
	}
	return name
}

// emailPrefix marks a user key that is an email address: no login is known
// and grants become invitations by email.
const emailPrefix = "email:"

func emailKey(email string) string { return emailPrefix + strings.ToLower(strings.TrimSpace(email)) }

// emailOf returns the address of an email key.
func emailOf(user string) (string, bool) { return strings.CutPrefix(user, emailPrefix) }
