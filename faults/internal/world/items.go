package world

import "fmt"

// Kind is the matrix event an item's delivery raises.
type Kind string

// The kinds of the load: together they reach every sync consumer.
const (
	// Deprovision is an Okta user.lifecycle.delete.initiated: the person
	// leaves the Console company, is blocked in GitLab and leaves the
	// GitHub organization.
	Deprovision Kind = "okta.delete.user"
	// Provision is an Okta user.lifecycle.create: the person joins the
	// Console company as a guest and gets a GitLab account.
	Provision Kind = "okta.create.user"
	// Permission is a Console company_user_edited for a project
	// developer: Okta groups, the GitLab project group, the GitHub team.
	Permission Kind = "console.update.user.permission"
)

// Providers lists the providers an event of kind k must reach (the rule
// matrix, design §2).
func (k Kind) Providers() []string {
	switch k {
	case Deprovision:
		return []string{"console", "gitlab", "github"}
	case Provision:
		return []string{"console", "gitlab"}
	case Permission:
		return []string{"okta", "gitlab", "github"}
	}
	return nil
}

// Item is one person and the one event the load sends about them. Every
// item has its own person, so that effects can be told apart and any
// order of handling converges to the same state.
type Item struct {
	Kind        Kind
	Name        string
	Email       string
	ConsoleID   string
	GitHubLogin string
	// OktaID is the person's Okta user id: the target of the Okta event,
	// or the id the Okta fake gave them.
	OktaID   string
	GitLabID int64
}

// Mix returns n items cycling through the three kinds; prefix keeps the
// names of repeated runs apart.
func Mix(prefix string, n int) []Item {
	kinds := []Kind{Deprovision, Provision, Permission}
	items := make([]Item, n)
	for i := range items {
		k := kinds[i%len(kinds)]
		var name string
		switch k {
		case Deprovision:
			name = fmt.Sprintf("%sd%05d", prefix, i)
		case Provision:
			name = fmt.Sprintf("%sc%05d", prefix, i)
		case Permission:
			name = fmt.Sprintf("%sp%05d", prefix, i)
		}
		it := Item{Kind: k, Name: name, Email: name + "@" + emailDomain, ConsoleID: "cu-" + name}
		if k != Provision {
			it.GitHubLogin = name + githubLoginSfx
		}
		if k != Permission {
			it.OktaID = "00u" + name
		}
		items[i] = it
	}
	return items
}
