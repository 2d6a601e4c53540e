package events

import (
	"strings"

	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

// Action is one thing a sync consumer can do at a provider, as recorded in an
// outcome's action field and shown by the event log.
type Action struct {
	Provider string
	// Name is the outcome's action value, e.g. group_member.remove.
	Name string
	// TypeName is the event log's type for it, e.g. gitlab.GroupMemberRemovedEvent.
	TypeName    string
	DisplayName string
}

// Actions is the vocabulary of outcome actions, per provider.
var Actions = []Action{
	{ProviderOkta, "group.create", "okta.GroupCreatedEvent", "Okta Group Created"},
	{ProviderOkta, "group_member.add", "okta.GroupMemberAddedEvent", "Okta Group Member Added"},
	{ProviderOkta, "group_member.remove", "okta.GroupMemberRemovedEvent", "Okta Group Member Removed"},
	{ProviderGitLab, "user.create", "gitlab.UserCreatedEvent", "GitLab User Created"},
	{ProviderGitLab, "user.unblock", "gitlab.UserUnblockedEvent", "GitLab User Unblocked"},
	{ProviderGitLab, "user.block", "gitlab.UserBlockedEvent", "GitLab User Blocked"},
	{ProviderGitLab, "user.deactivate", "gitlab.UserDeactivatedEvent", "GitLab User Deactivated"},
	{ProviderGitLab, "user.delete", "gitlab.UserDeletedEvent", "GitLab User Deleted"},
	{ProviderGitLab, "group_member.add", "gitlab.GroupMemberAddedEvent", "GitLab Group Member Added"},
	{ProviderGitLab, "group_member.update", "gitlab.GroupMemberUpdatedEvent", "GitLab Group Member Access Changed"},
	{ProviderGitLab, "group_member.remove", "gitlab.GroupMemberRemovedEvent", "GitLab Group Member Removed"},
	{ProviderGitHub, "org_member.add", "github.OrganizationMemberAddedEvent", "GitHub Organization Member Added"},
	{ProviderGitHub, "org_member.update", "github.OrganizationMemberUpdatedEvent", "GitHub Organization Role Changed"},
	{ProviderGitHub, "org_member.remove", "github.OrganizationMemberRemovedEvent", "GitHub Organization Member Removed"},
	{ProviderGitHub, "team_member.add", "github.TeamMemberAddedEvent", "GitHub Team Member Added"},
	{ProviderGitHub, "team_member.remove", "github.TeamMemberRemovedEvent", "GitHub Team Member Removed"},
	{ProviderGitHub, "invitation.create", "github.InvitationCreatedEvent", "GitHub Invitation Created"},
	{ProviderGitHub, "invitation.cancel", "github.InvitationCancelledEvent", "GitHub Invitation Cancelled"},
	{ProviderConsole, "company_user.add", "console.CompanyUserAddedEvent", "Console Company User Added"},
	{ProviderConsole, "company_user.remove", "console.CompanyUserRemovedEvent", "Console Company User Removed"},
	// Decisions of any provider that act on nothing (Provider "" = any).
	{"", "user.resolve", "idsync.UserUnresolvedEvent", "User Not Found at the Provider"},
	{"", "rule.evaluate", "idsync.RuleEvaluatedEvent", "Rule Evaluated"},
	{"", "access.verify", "idsync.AccessUnverifiedEvent", "Effective Access Not Verified"},
}

// LookupAction finds the action a provider's outcome names (falling back to
// the provider-independent ones).
func LookupAction(provider, name string) (Action, bool) {
	for _, a := range Actions {
		if (a.Provider == provider || a.Provider == "") && a.Name == name {
			return a, true
		}
	}
	return Action{}, false
}

var providerTitles = map[string]string{
	ProviderOkta: "Okta", ProviderGitLab: "GitLab", ProviderGitHub: "GitHub", ProviderConsole: "Console",
}

// outcomeTypes derives one outcome type per matrix cell: provider P acting on
// sync event E publishes outcome.P.E on outcomes.P.E. A provider applying a
// report it published (idsync.reconcile.report) publishes outcomes the same
// way, named after the report.
func outcomeTypes(types []*Type) []*Type {
	var out []*Type
	for _, t := range types {
		if t.Kind != KindSync && t.Kind != KindReport {
			continue
		}
		for _, p := range t.Providers {
			var actions []string
			for _, a := range Actions {
				if a.Provider == p || a.Provider == "" {
					actions = append(actions, a.Name)
				}
			}
			description := "What " + p + "-sync decided for a " + t.Name + " event: one message per action (" +
				strings.Join(actions, ", ") + ") with result granted, revoked, unchanged, skipped, planned or failed."
			if t.Kind == KindReport {
				description = "What " + p + "-sync did applying one of its " + t.Name + " reports (idsync reconcile --apply, " +
					"or IDSYNC_RECONCILE_APPLY): one message per action (" + strings.Join(actions, ", ") +
					") with result granted, revoked, unchanged, skipped, planned or failed; event_id is the report's id."
			}
			out = append(out, &Type{
				Name: outcomeName(p, t.Name), Kind: KindOutcome,
				Subject:          "outcomes." + p + "." + t.Name,
				Source:           SourceIdsync,
				Module:           p + "-sync",
				SourceEventTypes: []string{t.Name},
				DisplayName:      providerTitles[p] + " sync outcome of " + t.DisplayName,
				TypeName:         p + ".SyncOutcomeEvent",
				Description:      description,
				Payload:          payloadOf(&eventsv1.Outcome{}),
				Tags:             []string{TagOutcome},
				Since:            "idsync " + Version,
				Providers:        []string{p},
			})
		}
	}
	return out
}

// KindAlert marks operational alerts published by consumers.
const KindAlert Kind = "alert"

// TagAlert tags alert types.
const TagAlert = "alert"

// GuardTypeName is the type a provider's consumer publishes when its removal
// guard trips or is resumed.
func GuardTypeName(provider string) string { return "guard." + provider }

// guardTypes derives one alert type per provider.
func guardTypes() []*Type {
	var out []*Type
	for _, p := range Providers {
		out = append(out, &Type{
			Name: GuardTypeName(p), Kind: KindAlert,
			Subject:     "outcomes." + p + ".guard",
			Source:      SourceIdsync,
			Module:      p + "-sync",
			DisplayName: providerTitles[p] + " sync removal guard",
			TypeName:    p + ".GuardAlertEvent",
			Description: p + "-sync paused because it would have removed more users than IDSYNC_REMOVAL_THRESHOLD within IDSYNC_REMOVAL_WINDOW, or an operator resumed it.",
			Payload:     payloadOf(&eventsv1.GuardAlert{}),
			Tags:        []string{TagAlert},
			Since:       "idsync " + Version,
			Providers:   []string{p},
		})
	}
	return out
}
