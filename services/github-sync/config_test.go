package githubsync_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/config"
	githubsync "github.com/idsync/idsync/services/github-sync"
)

func TestGitHubConfig(t *testing.T) {
	t.Parallel()
	key := filepath.Join(t.TempDir(), "app.pem")
	if err := os.WriteFile(key, []byte("pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	ok := githubsync.GitHubConfig{APIURL: "https://api.github.com/", Timeout: 10 * time.Second}
	tests := []struct {
		name       string
		change     func(c *githubsync.GitHubConfig)
		configured bool
		errs       []string
	}{
		{name: "no credentials: valid, not configured", change: func(c *githubsync.GitHubConfig) {}},
		{name: "token", change: func(c *githubsync.GitHubConfig) { c.Token = "ghp_x" }, configured: true},
		{name: "GitHub App", configured: true, change: func(c *githubsync.GitHubConfig) {
			c.AppID, c.InstallationID, c.PrivateKeyFile = 1, 2, key
		}},
		{name: "GitHub Enterprise Server", change: func(c *githubsync.GitHubConfig) {
			c.APIURL, c.Token = "https://ghe.example.com/api/v3/", "ghp_x"
		}, configured: true},
		{name: "token and App together", configured: true, change: func(c *githubsync.GitHubConfig) {
			c.Token, c.AppID, c.InstallationID, c.PrivateKeyFile = "ghp_x", 1, 2, key
		}, errs: []string{"are alternatives"}},
		{name: "incomplete App", change: func(c *githubsync.GitHubConfig) { c.AppID = 1 },
			errs: []string{"IDSYNC_GITHUB_INSTALLATION_ID", "IDSYNC_GITHUB_PRIVATE_KEY_FILE: required"}},
		{name: "missing key file", change: func(c *githubsync.GitHubConfig) {
			c.AppID, c.InstallationID, c.PrivateKeyFile = 1, 2, "/nonexistent.pem"
		}, configured: true, errs: []string{"IDSYNC_GITHUB_PRIVATE_KEY_FILE:"}},
		{name: "every problem at once", change: func(c *githubsync.GitHubConfig) {
			c.APIURL, c.Timeout, c.IdentityFile, c.InstallationID = "ftp://x", 0, "/nonexistent.csv", -1
		}, errs: []string{"IDSYNC_GITHUB_API_URL", "IDSYNC_GITHUB_APP_ID", "IDSYNC_GITHUB_INSTALLATION_ID", "IDSYNC_GITHUB_PRIVATE_KEY_FILE", "IDSYNC_GITHUB_IDENTITY_FILE", "IDSYNC_GITHUB_TIMEOUT"}},
	}
	for _, tc := range tests {
		c := ok
		tc.change(&c)
		if c.Configured() != tc.configured {
			t.Errorf("%s: Configured() = %v", tc.name, c.Configured())
		}
		err := c.Validate()
		var lines []string
		if err != nil {
			lines = strings.Split(err.Error(), "\n")
		}
		if len(lines) != len(tc.errs) {
			t.Errorf("%s: %d errors, want %d: %v", tc.name, len(lines), len(tc.errs), err)
			continue
		}
		for i, want := range tc.errs {
			if !strings.Contains(lines[i], want) {
				t.Errorf("%s: error %q, want %q", tc.name, lines[i], want)
			}
		}
	}
}

func TestConfigDefaultsAndSecrets(t *testing.T) {
	t.Parallel()
	var cfg githubsync.Config
	env := map[string]string{"IDSYNC_GITHUB_TOKEN": "ghp_secret_value"}
	if _, err := config.Load(&cfg, githubsync.Name, nil, func(k string) string { return env[k] }, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if cfg.GitHub.APIURL != "https://api.github.com/" || cfg.GitHub.Timeout != 10*time.Second || !cfg.GitHub.Configured() {
		t.Fatalf("defaults %+v", cfg.GitHub)
	}
	fields, _ := config.Fields(&cfg)
	for _, f := range fields {
		if f.Env == "IDSYNC_GITHUB_TOKEN" && !f.Secret {
			t.Fatal("the token is not a secret")
		}
	}
}

func TestRunRefusesABadConfiguration(t *testing.T) {
	t.Parallel()
	env := map[string]string{"IDSYNC_GITHUB_APP_ID": "5", "IDSYNC_GITHUB_TIMEOUT": "-1s"}
	var stderr bytes.Buffer
	err := githubsync.Run(context.Background(), nil, func(k string) string { return env[k] }, &bytes.Buffer{}, &stderr)
	if err == nil || !strings.Contains(err.Error(), "IDSYNC_GITHUB_INSTALLATION_ID") || !strings.Contains(err.Error(), "IDSYNC_GITHUB_TIMEOUT") {
		t.Fatalf("Run: %v", err)
	}
}
