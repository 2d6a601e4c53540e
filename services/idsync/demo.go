package idsync

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/consolefake"
	"github.com/idsync/idsync/pkg/githubfake"
	"github.com/idsync/idsync/pkg/gitlabfake"
	"github.com/idsync/idsync/pkg/oktafake"
)

// The demo organisation's credentials; they open only the in-process fakes.
const (
	demoConsoleClient = "idsync-demo"
	demoConsoleSecret = "demo-console-service-account-secret"
	demoOktaToken     = "demo-okta-api-token"
	demoGitLabToken   = "demo-gitlab-token"
	demoGitHubToken   = "demo-github-token"
	demoCompany       = "acme"
)

// demo runs the provider fakes of IDSYNC_DEMO on loopback.
type demo struct {
	servers []*http.Server
	urls    map[string]string
}

// startDemo starts the fakes with a small organisation and points cfg at
// them. The rules' ${IDSYNC_CONSOLE_COMPANY_ID}, ${IDSYNC_GITHUB_ORG} and
// ${IDSYNC_GITLAB_ROOT_GROUP} default to the demo's names through the
// returned getenv.
func startDemo(cfg *Config, dataDir string, getenv func(string) string) (*demo, func(string) string, error) {
	d := &demo{urls: map[string]string{}}
	serve := func(name string, h http.Handler) (string, error) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", fmt.Errorf("demo %s: %w", name, err)
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		d.servers = append(d.servers, srv)
		u := "http://" + ln.Addr().String()
		d.urls[name] = u
		return u, nil
	}

	// The Console: company acme, project payments (dev, prod), three people.
	cf := consolefake.New()
	cf.AddServiceAccount(demoConsoleClient, demoConsoleSecret)
	cf.AddProject(demoCompany, "payments", "Payments",
		consolefake.Environment{EnvID: "dev", Label: "Development"},
		consolefake.Environment{EnvID: "prod", Label: "Production", IsProduction: true})
	for _, u := range []string{"alice", "bob", "carol"} {
		cf.AddPlatformUser(u, u+"@example.com")
	}
	cf.BindCompany(demoCompany, "alice", "guest")
	cf.BindProject(demoCompany, "alice", "payments", "developer")
	cf.BindCompany(demoCompany, "bob", "guest")

	// Okta: the same people and the groups the built-in rules name.
	of := oktafake.New(demoOktaToken)
	for _, u := range []string{"alice", "bob", "carol"} {
		of.AddUser(u+"@example.com", u, "Example")
	}
	for _, g := range []string{"console-acme", "console-acme-payments"} {
		of.AddGroup(g)
	}

	// GitLab: alice and bob, the acme/payments group (alice developer).
	gl := gitlabfake.New(demoGitLabToken)
	gl.AddGroup(demoCompany)
	gl.AddGroup(demoCompany + "/payments")
	alice := gl.AddUser(gitlabfake.User{Username: "alice", Email: "alice@example.com", Name: "Alice"})
	gl.AddUser(gitlabfake.User{Username: "bob", Email: "bob@example.com", Name: "Bob"})
	gl.SetMember(demoCompany+"/payments", alice.ID, gitlabfake.Developer)

	// GitHub: organization acme with team payments; alice and bob members.
	gh := githubfake.New()
	gh.AddToken(demoGitHubToken)
	gh.AddOrg(demoCompany)
	gh.AddTeam(demoCompany, "payments")
	gh.AddUser("alice-gh", "alice@example.com")
	gh.AddUser("bob-gh", "bob@example.com")
	gh.SetMember(demoCompany, "alice-gh", "member")
	gh.SetTeamMember(demoCompany, "payments", "alice-gh", "member")
	gh.SetMember(demoCompany, "bob-gh", "member")
	identities := filepath.Join(dataDir, "demo-github-identities.csv")
	if err := os.WriteFile(identities, []byte("email,login\nalice@example.com,alice-gh\nbob@example.com,bob-gh\n"), 0o600); err != nil {
		return nil, nil, err
	}

	var errs []error
	consoleURL, err := serve("console", cf.Handler())
	errs = append(errs, err)
	oktaURL, err := serve("okta", of.Handler())
	errs = append(errs, err)
	of.SetBaseURL(oktaURL)
	gitlabURL, err := serve("gitlab", gl.Handler())
	errs = append(errs, err)
	githubURL, err := serve("github", gh.Handler())
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		d.stop()
		return nil, nil, err
	}

	if len(cfg.Gateway.Hook.AllowedDomains) == 0 {
		cfg.Gateway.Hook.AllowedDomains = []string{"example.com"}
	}
	cfg.Sync.Console.URL, cfg.Sync.Console.ClientID, cfg.Sync.Console.ClientSecret = consoleURL, demoConsoleClient, config.Secret(demoConsoleSecret)
	// Every sync consumer reads the Okta fake: okta-sync writes to it, the
	// others read who is still an Okta user when they reconcile.
	cfg.Sync.Okta.OrgURL, cfg.Sync.Okta.APIToken = oktaURL, config.Secret(demoOktaToken)
	cfg.GitLab.URL, cfg.GitLab.Token = gitlabURL, config.Secret(demoGitLabToken)
	cfg.GitHub.APIURL, cfg.GitHub.Token, cfg.GitHub.IdentityFile = githubURL+gh.BasePath(), config.Secret(demoGitHubToken), identities
	d.urls["github"] = githubURL + gh.BasePath()

	defaults := map[string]string{
		"IDSYNC_CONSOLE_COMPANY_ID": demoCompany, "IDSYNC_GITHUB_ORG": demoCompany, "IDSYNC_GITLAB_ROOT_GROUP": demoCompany,
	}
	return d, func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return defaults[k]
	}, nil
}

func (d *demo) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range d.servers {
		_ = s.Shutdown(ctx)
	}
}
