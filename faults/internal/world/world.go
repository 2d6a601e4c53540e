// Package world is the organisation the fault suite works on: stateful
// fakes of Okta, GitLab, GitHub and the Console (pkg/*fake) serving on
// loopback in the test process, seeded with one person per item of the
// load, and the checks that say whether each item's effect reached each
// provider it should — once.
package world

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idsync/idsync/pkg/consolefake"
	"github.com/idsync/idsync/pkg/githubfake"
	"github.com/idsync/idsync/pkg/gitlabfake"
	"github.com/idsync/idsync/pkg/oktafake"
)

// The organisation's names and the credentials that open the fakes.
const (
	Company        = "acme"
	Project        = "payments"
	consoleClient  = "idsync-faults"
	consoleSecret  = "faults-console-service-account-secret"
	oktaToken      = "faults-okta-api-token"
	gitlabToken    = "faults-gitlab-token"
	githubToken    = "faults-github-token"
	companyGroup   = "console-" + Company
	projectGroup   = "console-" + Company + "-" + Project
	projectGitLab  = Company + "/" + Project
	emailDomain    = "example.com"
	githubLoginSfx = "-gh"
)

// World is the fakes and the people of one scenario.
type World struct {
	Console *consolefake.Fake
	Okta    *oktafake.Fake
	GitLab  *gitlabfake.Fake
	GitHub  *githubfake.Fake
	Items   []Item

	urls         map[string]string
	identityFile string
}

// New seeds the fakes with items (see Mix) and serves them on loopback
// until the test ends; dir receives the GitHub identity file.
func New(t testing.TB, dir string, items []Item) *World {
	t.Helper()
	w := &World{
		Console: consolefake.New(), Okta: oktafake.New(oktaToken), GitLab: gitlabfake.New(gitlabToken),
		GitHub: githubfake.New(), Items: items, urls: map[string]string{},
	}
	w.Console.AddServiceAccount(consoleClient, consoleSecret)
	w.Console.AddProject(Company, Project, "Payments", consolefake.Environment{EnvID: "dev", Label: "Development"})
	w.Okta.AddGroup(companyGroup)
	w.Okta.AddGroup(projectGroup)
	w.GitLab.AddGroup(Company)
	w.GitLab.AddGroup(projectGitLab)
	w.GitHub.AddToken(githubToken)
	w.GitHub.AddOrg(Company)
	w.GitHub.AddTeam(Company, Project)

	var ids strings.Builder
	ids.WriteString("email,login\n")
	for i := range w.Items {
		it := &w.Items[i]
		w.seed(it)
		if it.GitHubLogin != "" {
			fmt.Fprintf(&ids, "%s,%s\n", it.Email, it.GitHubLogin)
		}
	}
	w.identityFile = filepath.Join(dir, "github-identities.csv")
	if err := os.WriteFile(w.identityFile, []byte(ids.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	serve := func(name string, srv *httptest.Server) {
		t.Cleanup(srv.Close)
		w.urls[name] = srv.URL
	}
	serve("console", httptest.NewServer(w.Console.Handler()))
	serve("okta", httptest.NewServer(w.Okta.Handler()))
	w.Okta.SetBaseURL(w.urls["okta"])
	serve("gitlab", httptest.NewServer(w.GitLab.Handler()))
	serve("github", httptest.NewServer(w.GitHub.Handler()))
	return w
}

// seed puts the person of it where its event expects them.
func (w *World) seed(it *Item) {
	switch it.Kind {
	case Deprovision:
		// In every provider: the delete must take them out of all three.
		w.Console.AddPlatformUser(it.ConsoleID, it.Email)
		w.Console.BindCompany(Company, it.ConsoleID, "guest")
		u := w.GitLab.AddUser(gitlabfake.User{Username: it.Name, Email: it.Email, Name: it.Name})
		it.GitLabID = u.ID
		w.GitHub.AddUser(it.GitHubLogin, it.Email)
		w.GitHub.SetMember(Company, it.GitHubLogin, "member")
	case Provision:
		// Known to the Console platform (so the company can take them),
		// unknown to GitLab (which must create them once).
		w.Console.AddPlatformUser(it.ConsoleID, it.Email)
	case Permission:
		// A Console developer of the project who is nowhere yet: the
		// rules put them in the Okta groups, the GitLab project group and
		// the GitHub project team.
		w.Console.AddPlatformUser(it.ConsoleID, it.Email)
		w.Console.BindCompany(Company, it.ConsoleID, "guest")
		w.Console.BindProject(Company, it.ConsoleID, Project, "developer")
		it.OktaID = w.Okta.AddUser(it.Email, it.Name, "Faults")
		u := w.GitLab.AddUser(gitlabfake.User{Username: it.Name, Email: it.Email, Name: it.Name})
		it.GitLabID = u.ID
		w.GitHub.AddUser(it.GitHubLogin, it.Email)
		w.GitHub.SetMember(Company, it.GitHubLogin, "member")
	}
}

// Env is what every sync consumer needs to reach the fakes, and the names
// the built-in rules take from the environment.
func (w *World) Env() map[string]string {
	return map[string]string{
		"IDSYNC_CONSOLE_URL": w.urls["console"], "IDSYNC_CONSOLE_CLIENT_ID": consoleClient, "IDSYNC_CONSOLE_CLIENT_SECRET": consoleSecret,
		"IDSYNC_OKTA_ORG_URL": w.urls["okta"], "IDSYNC_OKTA_API_TOKEN": oktaToken,
		"IDSYNC_GITLAB_URL": w.urls["gitlab"], "IDSYNC_GITLAB_TOKEN": gitlabToken,
		"IDSYNC_GITHUB_API_URL": w.urls["github"] + w.GitHub.BasePath(), "IDSYNC_GITHUB_TOKEN": githubToken,
		"IDSYNC_GITHUB_IDENTITY_FILE": w.identityFile,
		"IDSYNC_CONSOLE_COMPANY_ID":   Company, "IDSYNC_GITHUB_ORG": Company, "IDSYNC_GITLAB_ROOT_GROUP": Company,
	}
}
