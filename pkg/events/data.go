package events

import (
	"google.golang.org/protobuf/reflect/protoreflect"

	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

// Tags used across the catalog.
const (
	TagSyncEligible          = "sync-eligible"
	TagOktaEventHookEligible = "okta-event-hook-eligible"
	TagOktaInlineHook        = "okta-inline-hook"
	TagConsoleWebhook        = "console-webhook"
	TagOutcome               = "outcome"
	TagPersonalData          = "personal-data"
)

// Okta event types with a special meaning.
const (
	OktaUserCreate          = "user.lifecycle.create"
	OktaUserActivate        = "user.lifecycle.activate"
	OktaUserDeleteInitiated = "user.lifecycle.delete.initiated"
	// OktaUserDeactivate raises okta.delete.user only when the operator
	// configures it (IDSYNC_OKTA_DEACTIVATE_DELETES); otherwise it is a
	// passthrough event like any other.
	OktaUserDeactivate  = "user.lifecycle.deactivate"
	OktaPreRegistration = "com.okta.user.pre-registration"
)

// idsyncTypes is the hand-kept part of the catalog: the rule matrix (design
// §2) and the Console events. Okta's own catalog and the outcome types are
// derived from data (see oktaTypes and outcomeTypes).
func idsyncTypes() []*Type {
	return []*Type{
		{
			Name: ConsoleUpdateUserPermission, Kind: KindSync,
			Subject: "events." + ConsoleUpdateUserPermission,
			Source:  SourceConsole, Module: "iam",
			SourceEventTypes: []string{"company_user_added", "user_added", "company_user_edited", "company_user_removed"},
			DisplayName:      "Console User Permission Changed", TypeName: "console.UserPermissionChangedEvent",
			Description: "A user gained, changed or lost access to a Console Company, Project or Environment, directly or through a group. " +
				"It does not say whether access remains through another binding, so consumers re-read effective access before revoking.",
			Payload:   payloadOf(&eventsv1.ConsoleUserPermissionChanged{}),
			Tags:      []string{TagSyncEligible, TagConsoleWebhook, TagPersonalData},
			Since:     "Console v12.3.0",
			Providers: []string{ProviderOkta, ProviderGitLab, ProviderGitHub},
		},
		{
			Name: ConsoleCreateProject, Kind: KindSync,
			Subject: "events." + ConsoleCreateProject,
			Source:  SourceConsole, Module: "project",
			SourceEventTypes: []string{"project_created"},
			DisplayName:      "Console Project Created", TypeName: "console.ProjectCreatedEvent",
			Description: "A Console Project was created; okta-sync creates the Okta groups its rules name for it.",
			Payload:     payloadOf(&eventsv1.ConsoleProjectCreated{}),
			Tags:        []string{TagSyncEligible, TagConsoleWebhook},
			Since:       "Console v10",
			Providers:   []string{ProviderOkta},
		},
		{
			Name: OktaCreateUser, Kind: KindSync,
			Subject: "events." + OktaCreateUser,
			Source:  SourceOkta, Module: "ud-core",
			SourceEventTypes: []string{OktaUserCreate, OktaUserActivate},
			DisplayName:      "Okta User Created", TypeName: "okta.UserCreatedEvent",
			Description: "A user was created or activated in Okta; the Console and GitLab get the user.",
			Payload:     payloadOf(&eventsv1.OktaUserLifecycle{}),
			Tags:        []string{TagSyncEligible, TagOktaEventHookEligible, TagPersonalData},
			Since:       "Okta 2016.02",
			Providers:   []string{ProviderConsole, ProviderGitLab},
		},
		{
			Name: OktaDeleteUser, Kind: KindSync,
			Subject: "events." + OktaDeleteUser,
			Source:  SourceOkta, Module: "ud-core",
			SourceEventTypes: []string{OktaUserDeleteInitiated, OktaUserDeactivate},
			DisplayName:      "Okta User Deleted", TypeName: "okta.UserDeletedEvent",
			Description: "A user's deletion started in Okta (or, when IDSYNC_OKTA_DEACTIVATE_DELETES is set, the user was deactivated); " +
				"the user is removed from the Console company, blocked in GitLab and removed from the GitHub organizations.",
			Payload:   payloadOf(&eventsv1.OktaUserLifecycle{}),
			Tags:      []string{TagSyncEligible, TagOktaEventHookEligible, TagPersonalData},
			Since:     "Okta 2016.29",
			Providers: []string{ProviderConsole, ProviderGitLab, ProviderGitHub},
		},
		{
			Name: OktaVerifyEmail, Kind: KindPassthrough,
			Subject: "events." + OktaVerifyEmail,
			Source:  SourceOkta, Module: "registration",
			SourceEventTypes: []string{OktaPreRegistration},
			DisplayName:      "Okta Registration Email Verified", TypeName: "okta.EmailVerifiedEvent",
			Description: "The gateway answered Okta's registration inline hook: the email's domain was allowed or the registration denied.",
			Payload:     payloadOf(&eventsv1.OktaEmailVerification{}),
			Tags:        []string{TagOktaInlineHook, TagPersonalData},
			Since:       "Okta Identity Engine",
		},
		consolePassthrough("service_created", "Console Service Created", "console.ServiceCreatedEvent",
			"A microservice was generated from a marketplace template or example (its repository exists; it may not be in the configuration yet).",
			"Console v10", payloadOf(&eventsv1.ConsoleServiceCreated{})),
		consolePassthrough("configuration_saved", "Console Configuration Saved", "console.ConfigurationSavedEvent",
			"A Project configuration was saved from the Console Design section.",
			"Console v13", payloadOf(&eventsv1.ConsoleConfigurationSaved{})),
		consolePassthrough("tag_created", "Console Tag Created", "console.TagCreatedEvent",
			"A Project was tagged (Enhanced Workflow: a version was created).",
			"Console v10", payloadOf(&eventsv1.ConsoleTagCreated{})),
		consolePassthrough("tag_deleted", "Console Tag Deleted", "console.TagDeletedEvent",
			"A Project version was deleted (Enhanced Workflow: the version's tag was deleted).",
			"Console v14.2.0", payloadOf(&eventsv1.ConsoleTagDeleted{})),
	}
}

func consolePassthrough(eventName, display, typeName, desc, since string, payload protoreflect.MessageType) *Type {
	return &Type{
		Name: "console." + eventName, Kind: KindPassthrough,
		Subject: "events.console." + eventName,
		Source:  SourceConsole, Module: "project",
		SourceEventTypes: []string{eventName},
		DisplayName:      display, TypeName: typeName,
		Description: desc,
		Payload:     payload,
		Tags:        []string{TagConsoleWebhook},
		Since:       since,
	}
}
