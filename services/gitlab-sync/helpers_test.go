package gitlabsync_test

import (
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/console"
	"github.com/idsync/idsync/pkg/consolefake"
	"github.com/idsync/idsync/pkg/gitlabfake"
	"github.com/idsync/idsync/pkg/syncsvc/synctest"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
	gitlabsync "github.com/idsync/idsync/services/gitlab-sync"
)

const (
	token         = "glpat-sync-test"
	consoleSecret = "console-sa-secret-123"
)

// rules: developers of a Console project develop its GitLab group, those
// who may deploy it maintain it, and those who may deploy its production
// environments maintain their deploy group; Okta users get a GitLab user
// and are blocked when deleted in Okta.
const testRules = `version: 1
rules:
  - id: devs
    scope: {event: console.update.user.permission}
    requirements: {necessaryPermissions: [console.project.configuration.update]}
    actions: {gitlab: {groups: [{path: "acme/{{projectId}}", role: developer}]}}
  - id: maintainers
    scope: {event: console.update.user.permission}
    requirements: {necessaryPermissions: [console.project.environment.deploy.trigger]}
    actions: {gitlab: {groups: [{path: "acme/{{projectId}}", role: maintainer}]}}
  - id: prod-deployers
    scope: {event: console.update.user.permission, evaluateForEachEnvironment: true, isProduction: true}
    requirements: {necessaryPermissions: [console.environment.deploy.trigger]}
    actions: {gitlab: {groups: [{path: "deploy/{{projectId}}-{{environmentId}}", role: maintainer}]}}
  - id: join
    scope: {event: okta.create.user}
    actions: {gitlab: {user: {external: true, skipConfirmation: true, forceRandomPassword: true}}}
  - id: leave
    scope: {event: okta.delete.user}
    actions: {gitlab: {offboard: block}}
`

// env is gitlab-sync running against a GitLab fake, with the Console fake
// for effective access.
type env struct {
	gl      *gitlabfake.Fake
	console *consolefake.Fake
	h       *synctest.Harness
}

// start runs gitlab-sync; noGitLab leaves GitLab unconfigured (dry-run).
func start(t testing.TB, o synctest.Options, noGitLab bool) env {
	t.Helper()
	gl := gitlabfake.New(token)
	glSrv := httptest.NewServer(gl.Handler())
	t.Cleanup(glSrv.Close)
	cf := consolefake.New()
	cf.AddServiceAccount("idsync", consoleSecret)
	cSrv := httptest.NewServer(cf.Handler())
	t.Cleanup(cSrv.Close)
	if o.Rules == "" {
		o.Rules = testRules
	}
	if o.Console.URL == "" {
		o.Console = console.Config{URL: cSrv.URL, ClientID: "idsync", ClientSecret: config.Secret(consoleSecret), Timeout: 5 * time.Second}
	}
	cfg := gitlabsync.Config{GitLab: gitlabsync.GitLabConfig{URL: glSrv.URL, Token: token, Timeout: 5 * time.Second}}
	if noGitLab {
		cfg.GitLab = gitlabsync.GitLabConfig{Timeout: time.Second}
	}
	cfg.Sync.Console = o.Console
	return env{gl: gl, console: cf, h: synctest.Start(t, gitlabsync.Spec(cfg, nil), o)}
}

// settle waits until the consumer has settled every event published so far.
func (e env) settle(t testing.TB) {
	t.Helper()
	e.h.WaitSettled()
}

// outcomesOf describes the outcomes of one event.
func (e env) outcomesOf(eventID string) []string {
	var os []*eventsv1.Outcome
	for _, o := range e.h.Outcomes() {
		if o.GetEventId() == eventID {
			os = append(os, o)
		}
	}
	return synctest.Describe(os)
}

// reasonsOf lists the reasons of one event's outcomes.
func (e env) reasonsOf(eventID string) []string {
	var out []string
	for _, o := range e.h.Outcomes() {
		if o.GetEventId() == eventID {
			out = append(out, o.GetReason())
		}
	}
	return out
}

// levels is a user's direct memberships: group path → access level.
func (e env) levels(userID int64) map[string]int {
	out := map[string]int{}
	for _, p := range e.gl.Memberships(userID) {
		out[p], _ = e.gl.Member(p, userID)
	}
	return out
}

func sameLevels(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func key(id int64) string { return strconv.FormatInt(id, 10) }

func equal(a, b []string) bool { return slices.Equal(a, b) }
