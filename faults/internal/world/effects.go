package world

import (
	"fmt"
	"slices"

	"github.com/idsync/idsync/pkg/fakehttp"
	"github.com/idsync/idsync/pkg/gitlabfake"
)

// Reached reports whether the effect of it's event is in place at provider.
func (w *World) Reached(it Item, provider string) bool {
	switch it.Kind {
	case Deprovision:
		switch provider {
		case "console":
			return !w.Console.InCompany(Company, it.ConsoleID)
		case "gitlab":
			u, ok := w.GitLab.User(it.GitLabID)
			return ok && u.State == gitlabfake.StateBlocked
		case "github":
			_, member := w.GitHub.OrgMembership(Company, it.GitHubLogin)
			return !member
		}
	case Provision:
		switch provider {
		case "console":
			return w.Console.InCompany(Company, it.ConsoleID) && slices.Equal(w.Console.CompanyRoles(Company, it.ConsoleID), []string{"guest"})
		case "gitlab":
			u, ok := w.GitLab.UserByEmail(it.Email)
			return ok && u.State == gitlabfake.StateActive
		}
	case Permission:
		switch provider {
		case "okta":
			return slices.Contains(w.Okta.Members(companyGroup), it.Email) && slices.Contains(w.Okta.Members(projectGroup), it.Email)
		case "gitlab":
			level, ok := w.GitLab.Member(projectGitLab, it.GitLabID)
			return ok && level == PermissionGitLabLevel
		case "github":
			_, ok := w.GitHub.TeamMembership(Company, Project, it.GitHubLogin)
			return ok
		}
	}
	return false
}

// PermissionGitLabLevel is the access level the built-in rules give a
// Console project developer in the project's GitLab group: the developer
// role grants console.project.configuration.update (project-developers)
// but not the deploy trigger (project-maintainers).
const PermissionGitLabLevel = gitlabfake.Developer

// Pending lists the item→provider effects not in place yet.
func (w *World) Pending() []string {
	var out []string
	for _, it := range w.Items {
		for _, p := range it.Kind.Providers() {
			if !w.Reached(it, p) {
				out = append(out, it.Name+"→"+p)
			}
		}
	}
	return out
}

// Effects counts the item→provider effects the load asks for.
func (w *World) Effects() int {
	n := 0
	for _, it := range w.Items {
		n += len(it.Kind.Providers())
	}
	return n
}

// write is one state-changing request: provider, method and path.
type write struct{ provider, method, path string }

func (x write) String() string { return x.provider + " " + x.method + " " + x.path }

// expectedWrites is what the items' effects take, each exactly once: the
// requests idsync must have made, successfully, and no others.
func (w *World) expectedWrites() map[write]int {
	want := map[write]int{}
	oktaCompany, _ := w.Okta.GroupID(companyGroup)
	oktaProject, _ := w.Okta.GroupID(projectGroup)
	for _, it := range w.Items {
		switch it.Kind {
		case Deprovision:
			want[write{"console", "DELETE", "/api/companies/" + Company + "/users/" + it.ConsoleID}]++
			want[write{"gitlab", "POST", fmt.Sprintf("/api/v4/users/%d/block", it.GitLabID)}]++
			want[write{"github", "DELETE", w.GitHub.BasePath() + "orgs/" + Company + "/memberships/" + it.GitHubLogin}]++
		case Provision:
			want[write{"console", "POST", "/api/companies/" + Company + "/users"}]++
			want[write{"gitlab", "POST", "/api/v4/users"}]++
		case Permission:
			want[write{"okta", "PUT", "/api/v1/groups/" + oktaCompany + "/users/" + it.OktaID}]++
			want[write{"okta", "PUT", "/api/v1/groups/" + oktaProject + "/users/" + it.OktaID}]++
			want[write{"gitlab", "POST", "/api/v4/groups/" + projectGitLab + "/members"}]++
			want[write{"github", "PUT", w.GitHub.BasePath() + "orgs/" + Company + "/teams/" + Project + "/memberships/" + it.GitHubLogin}]++
		}
	}
	return want
}

// Faults are the fakes' fault controls and request logs, by provider.
func (w *World) Faults() map[string]*fakehttp.Faults {
	return map[string]*fakehttp.Faults{
		"console": w.Console.Faults(), "okta": w.Okta.Faults(), "gitlab": w.GitLab.Faults(), "github": w.GitHub.Faults(),
	}
}

// Writes returns the successful state-changing requests each fake served.
func (w *World) Writes() map[write]int {
	got := map[write]int{}
	for name, f := range w.Faults() {
		for _, r := range f.Requests() {
			if !r.Exempt && r.Method != "GET" && r.Method != "HEAD" && r.Status > 0 && r.Status < 300 {
				got[write{name, r.Method, r.Path}]++
			}
		}
	}
	return got
}

// WriteViolations compares the successful writes with the expected ones:
// a write made twice (an effect applied twice), one missing, or one no item
// asks for. Empty means every effect was applied exactly once.
func (w *World) WriteViolations() []string {
	want, got := w.expectedWrites(), w.Writes()
	var out []string
	for k, n := range got {
		if n != want[k] {
			out = append(out, fmt.Sprintf("%s: %d successful, want %d", k, n, want[k]))
		}
	}
	for k, n := range want {
		if got[k] == 0 {
			out = append(out, fmt.Sprintf("%s: never made, want %d", k, n))
		}
	}
	slices.Sort(out)
	return out
}

// Refusals counts the answers the fakes gave with status >= 400, by
// provider: injected faults, and anything idsync asked for that was wrong
// (a duplicate creation answered 409, say).
func (w *World) Refusals() map[string]map[int]int {
	out := map[string]map[int]int{}
	for name, f := range w.Faults() {
		for _, r := range f.Requests() {
			if r.Status >= 400 {
				if out[name] == nil {
					out[name] = map[int]int{}
				}
				out[name][r.Status]++
			}
		}
	}
	return out
}
