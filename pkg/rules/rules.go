// Package rules is idsync's rule matrix as configuration: which events make
// which provider do what, under which requirements. A rule has an id, a
// scope (event; company and project filters; isProduction; evaluation per
// environment; always), requirements validated with seed 000's JSON Schemas
// (necessaryPermissions, allowedDomains) and actions per provider. Names may
// use {{companyId}}, {{projectId}} and {{environmentId}}; files may use
// ${ENV_VAR}. The built-in default reproduces the matrix of design §2.
package rules

// File is a rules file.
type File struct {
	Version int    `yaml:"version"`
	Rules   []Rule `yaml:"rules"`
}

// Rule is one rule.
type Rule struct {
	ID           string       `yaml:"id"`
	Description  string       `yaml:"description"`
	Scope        Scope        `yaml:"scope"`
	Requirements Requirements `yaml:"requirements"`
	Actions      Actions      `yaml:"actions"`
}

// Scope says when a rule applies.
type Scope struct {
	// Event is the canonical event the rule is about.
	Event string `yaml:"event"`
	// Always applies the rule whatever the company and project (the filters
	// are then not allowed).
	Always bool `yaml:"always"`
	// CompanyIDs and ProjectIDs restrict the rule; empty means any.
	CompanyIDs []string `yaml:"companyIds"`
	ProjectIDs []string `yaml:"projectIds"`
	// IsProduction restricts an environment-level rule to production (true)
	// or non-production (false) environments.
	IsProduction *bool `yaml:"isProduction"`
	// EvaluateForEachEnvironment evaluates the rule once per environment of
	// the project, with {{environmentId}} set.
	EvaluateForEachEnvironment bool `yaml:"evaluateForEachEnvironment"`
}

// Requirements are the seed's per-event requirements.
type Requirements struct {
	// NecessaryPermissions are Console permission keys the user's effective
	// access must grant (console.update.user.permission).
	NecessaryPermissions []string `yaml:"necessaryPermissions"`
	// AllowedDomains are email domains allowed to register (okta.verify.email).
	AllowedDomains []string `yaml:"allowedDomains"`
}

// Actions per provider; each is optional.
type Actions struct {
	Okta    *OktaActions    `yaml:"okta"`
	GitLab  *GitLabActions  `yaml:"gitlab"`
	GitHub  *GitHubActions  `yaml:"github"`
	Console *ConsoleActions `yaml:"console"`
}

// OktaActions: membership of Okta groups (created for console.create.project).
type OktaActions struct {
	Groups []string `yaml:"groups"`
}

// GitLabActions: group memberships with a role, the user's creation, and
// how the user is offboarded.
type GitLabActions struct {
	Groups []GitLabGroup `yaml:"groups"`
	// User is how okta.create.user creates the GitLab user.
	User *GitLabUser `yaml:"user"`
	// Offboard is what okta.delete.user does to the GitLab user: block
	// (default), deactivate or delete. Memberships are removed in every case.
	Offboard string `yaml:"offboard"`
}

// GitLabGroup is a group (full path) and the role to hold in it.
type GitLabGroup struct {
	Path string `yaml:"path"`
	Role string `yaml:"role"`
}

// GitLabUser are the creation options of a GitLab user.
type GitLabUser struct {
	External            bool `yaml:"external"`
	SkipConfirmation    bool `yaml:"skipConfirmation"`
	ForceRandomPassword bool `yaml:"forceRandomPassword"`
}

// GitHubActions: organization and team memberships with a role.
type GitHubActions struct {
	Organizations []GitHubOrganization `yaml:"organizations"`
	Teams         []GitHubTeam         `yaml:"teams"`
}

// GitHubOrganization is an organization and the role in it (member, admin).
type GitHubOrganization struct {
	Name string `yaml:"name"`
	Role string `yaml:"role"`
}

// GitHubTeam is a team (by slug) of an organization and the role in it
// (member, maintainer).
type GitHubTeam struct {
	Organization string `yaml:"organization"`
	Name         string `yaml:"name"`
	Role         string `yaml:"role"`
}

// ConsoleActions: membership of Console companies with a role.
type ConsoleActions struct {
	Companies []ConsoleCompany `yaml:"companies"`
}

// ConsoleCompany is a company id and the role to give there.
type ConsoleCompany struct {
	ID   string `yaml:"id"`
	Role string `yaml:"role"`
}
