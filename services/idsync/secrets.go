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

	"github.com/idsync/idsync/pkg/config"
)

// secretsFile keeps the inbound secrets the all-in-one generated, so that the
// hooks configured at Okta and the Console keep working across restarts.
const secretsFile = "secrets.json"

type storedSecrets struct {
	OktaHookSecret       string `json:"okta_hook_secret"`
	ConsoleWebhookSecret string `json:"console_webhook_secret"`
}

// generated says which secrets were generated (and so are printed).
type generated struct{ okta, console bool }

// ensureSecrets fills in missing inbound secrets from the data directory,
// generating and saving (mode 0600) any that do not exist yet.
func ensureSecrets(dataDir string, okta, console *config.Secrets) (generated, error) {
	var g generated
	if len(*okta) > 0 && len(*console) > 0 {
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
