package gitlabsync_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	gitlabsync "github.com/idsync/idsync/services/gitlab-sync"
)

func TestGitLabConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		cfg        gitlabsync.GitLabConfig
		configured bool
		problems   []string
	}{
		{name: "unconfigured is dry-run", cfg: gitlabsync.GitLabConfig{Timeout: time.Second}},
		{name: "configured", cfg: gitlabsync.GitLabConfig{URL: "https://gitlab.example.com", Token: "glpat-x", Timeout: time.Second}, configured: true},
		{name: "a URL without a token", cfg: gitlabsync.GitLabConfig{URL: "https://gitlab.example.com", Timeout: time.Second},
			problems: []string{"IDSYNC_GITLAB_URL and IDSYNC_GITLAB_TOKEN go together"}},
		{name: "every problem, one error each", cfg: gitlabsync.GitLabConfig{URL: "gitlab.example.com", Token: "glpat-x"}, configured: true,
			problems: []string{"IDSYNC_GITLAB_URL: \"gitlab.example.com\" is not an http(s) URL", "IDSYNC_GITLAB_TIMEOUT: 0s, want more than 0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.cfg.Configured(); got != tc.configured {
				t.Errorf("Configured() = %v", got)
			}
			var got []string
			if err := tc.cfg.Validate(); err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if !equal(got, tc.problems) {
				t.Fatalf("problems %q, want %q", got, tc.problems)
			}
		})
	}
}

func TestRunRefusesABadConfigurationWithoutLeakingTheToken(t *testing.T) {
	t.Parallel()
	env := map[string]string{"IDSYNC_GITLAB_TOKEN": "glpat-secret-value", "IDSYNC_GITLAB_TIMEOUT": "-1s"}
	var stderr strings.Builder
	err := gitlabsync.Run(context.Background(), nil, func(k string) string { return env[k] }, io.Discard, &stderr)
	if err == nil {
		t.Fatal("Run accepted a token without a URL")
	}
	for _, want := range []string{"IDSYNC_GITLAB_URL and IDSYNC_GITLAB_TOKEN go together", "IDSYNC_GITLAB_TIMEOUT"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error()+stderr.String(), "glpat-secret-value") {
		t.Error("the token leaked")
	}
}
