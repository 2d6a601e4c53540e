package idsync

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/crypto/bcrypt"

	"github.com/idsync/idsync/pkg/config"
)

// secretsFile keeps the inbound secrets the all-in-one generated, so that the
// hooks configured at Okta and the Console keep working across restarts.
const secretsFile = "secrets.json"

type storedSecrets struct {
	OktaHookSecret       string `json:"okta_hook_secret"`
	ConsoleWebhookSecret string `json:"console_webhook_secret"`
	// APIAdminPassword is the events API's generated user's password; the
	// bcrypt hash is derived from it at start.
	APIAdminPassword string `json:"api_admin_password,omitempty"`
}

// apiAdmin is the events API user the all-in-one generates when
// IDSYNC_API_USERS is empty.
const apiAdmin = "admin"

// generated says which secrets were generated (and so are printed).
type generated struct {
	okta, console bool
	// apiPassword is the generated events API password ("" when
	// IDSYNC_API_USERS is given).
	apiPassword string
}

// ensureSecrets fills in missing inbound secrets and events API users from
// the data directory, generating and saving (mode 0600) any that do not
// exist yet.
func ensureSecrets(dataDir string, okta, console, apiUsers *config.Secrets) (generated, error) {
	var g generated
	if len(*okta) > 0 && len(*console) > 0 && len(*apiUsers) > 0 {
		return g, nil
	}
	path := filepath.Join(dataDir, secretsFile)
	var s storedSecrets
	raw, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(raw, &s); err != nil {
			return g, fmt.Errorf("%s: %w (delete it to generate new secrets)", path, err)
		}
	case errors.Is(err, fs.ErrNotExist):
	default:
		return g, err
	}
	changed := false
	for _, f := range []struct {
		target *config.Secrets
		stored *string
		flag   *bool
	}{{okta, &s.OktaHookSecret, &g.okta}, {console, &s.ConsoleWebhookSecret, &g.console}} {
		if len(*f.target) > 0 {
			continue
		}
		if *f.stored == "" {
			v, err := newSecret()
			if err != nil {
				return g, err
			}
			*f.stored, changed = v, true
		}
		*f.target = config.Secrets{config.Secret(*f.stored)}
		*f.flag = true
	}
	if len(*apiUsers) == 0 {
		if s.APIAdminPassword == "" {
			v, err := newSecret()
			if err != nil {
				return g, err
			}
			s.APIAdminPassword, changed = v, true
		}
		hash, err := bcrypt.GenerateFromPassword([]byte(s.APIAdminPassword), bcrypt.DefaultCost)
		if err != nil {
			return g, err
		}
		*apiUsers = config.Secrets{config.Secret(apiAdmin + ":" + string(hash))}
		g.apiPassword = s.APIAdminPassword
	}
	if changed {
		out, _ := json.MarshalIndent(s, "", "  ")
		if err := os.WriteFile(path, out, 0o600); err != nil {
			return g, fmt.Errorf("saving generated secrets: %w", err)
		}
	}
	return g, nil
}

func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
