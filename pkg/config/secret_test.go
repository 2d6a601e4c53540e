package config_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/idsync/idsync/pkg/config"
)

const secretValue = "hunter2-s3cr3t"

// holder is how secrets travel in practice: inside a service's Config, which
// somebody will one day print or log whole.
type holder struct {
	Name   string
	Token  config.Secret
	Tokens config.Secrets
	Ptr    *config.Secret
}

func TestSecretsNeverRevealTheirValue(t *testing.T) {
	t.Parallel()
	s := config.Secret(secretValue)
	ss := config.Secrets{secretValue, secretValue + "-old"}
	h := holder{Name: "gateway", Token: s, Tokens: ss, Ptr: &s}

	renderings := map[string]func() string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		for name, v := range map[string]any{"Secret": s, "Secrets": ss, "struct": h, "*struct": &h} {
			renderings["fmt "+verb+" "+name] = func() string { return fmt.Sprintf(verb, v) }
		}
	}
	for name, v := range map[string]any{"Secret": s, "Secrets": ss, "struct": h} {
		renderings["slog JSON "+name] = func() string {
			var buf bytes.Buffer
			slog.New(slog.NewJSONHandler(&buf, nil)).Info("cfg", "v", v)
			return buf.String()
		}
		renderings["slog text "+name] = func() string {
			var buf bytes.Buffer
			slog.New(slog.NewTextHandler(&buf, nil)).Info("cfg", "v", v)
			return buf.String()
		}
		renderings["encoding/json "+name] = func() string {
			b, err := json.Marshal(v)
			if err != nil {
				return "json.Marshal: " + err.Error()
			}
			return string(b)
		}
	}
	for name, render := range renderings {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			out := render()
			if strings.Contains(out, "hunter2") {
				t.Errorf("leaks the secret: %s", out)
			}
			if !strings.Contains(out, "[redacted]") {
				t.Errorf("does not say a value was redacted: %s", out)
			}
		})
	}
}

func TestSecretReveal(t *testing.T) {
	t.Parallel()
	if got := config.Secret(secretValue).Reveal(); got != secretValue {
		t.Errorf("Reveal = %q", got)
	}
	// An empty secret prints as empty, so "not configured" stays visible.
	if got := fmt.Sprint(config.Secret("")); got != "" {
		t.Errorf("empty Secret prints %q", got)
	}
	if got := fmt.Sprint(config.Secrets(nil)); got != "" {
		t.Errorf("empty Secrets prints %q", got)
	}
}

func TestSecretsMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		secrets   config.Secrets
		candidate string
		want      bool
	}{
		{"current", config.Secrets{"new", "old"}, "new", true},
		{"previous during rotation", config.Secrets{"new", "old"}, "old", true},
		{"other", config.Secrets{"new", "old"}, "nope", false},
		{"prefix", config.Secrets{"secret"}, "secre", false},
		{"extension", config.Secrets{"secret"}, "secret2", false},
		{"case differs", config.Secrets{"secret"}, "Secret", false},
		{"trailing space", config.Secrets{"secret"}, "secret ", false},
		{"empty candidate", config.Secrets{"secret"}, "", false},
		// Fail closed: no configuration must never mean "anything goes".
		{"nil list", nil, "", false},
		{"nil list, any candidate", nil, "x", false},
		{"empty list", config.Secrets{}, "x", false},
		{"empty secret never matches empty candidate", config.Secrets{""}, "", false},
		{"empty secret is skipped", config.Secrets{"", "b"}, "b", true},
		{"duplicate secrets", config.Secrets{"a", "a"}, "a", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.secrets.Match([]byte(tt.candidate)); got != tt.want {
				t.Errorf("Match(%q) = %v, want %v", tt.candidate, got, tt.want)
			}
		})
	}
}
