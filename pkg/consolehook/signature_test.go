package consolehook_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/consolehook"
)

func TestSign(t *testing.T) {
	t.Parallel()
	// The Console's scheme, computed independently: hex(SHA-256(body ‖ secret)).
	body, secret := []byte(`{"eventName":"tag_created"}`), "s3cr3t"
	sum := sha256.Sum256(append(append([]byte(nil), body...), secret...))
	if got, want := consolehook.Sign(body, secret), hex.EncodeToString(sum[:]); got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	body := []byte(`{"eventName":"tag_created","eventTimestamp":1,"payload":{}}`)
	sig := consolehook.Sign(body, "new")
	oldSig := consolehook.Sign(body, "old")
	tests := []struct {
		name      string
		body      []byte
		signature string
		secrets   config.Secrets
		want      bool
	}{
		{"current secret", body, sig, config.Secrets{"new"}, true},
		{"rotation: old secret still configured", body, oldSig, config.Secrets{"new", "old"}, true},
		{"rotation: new secret first or last", body, sig, config.Secrets{"old", "new"}, true},
		{"sha256= prefix", body, "sha256=" + sig, config.Secrets{"new"}, true},
		{"SHA256= prefix", body, "SHA256=" + sig, config.Secrets{"new"}, true},
		{"upper-case hex", body, strings.ToUpper(sig), config.Secrets{"new"}, true},
		{"surrounding blanks", body, " " + sig + "\t", config.Secrets{"new"}, true},
		{"other secret", body, oldSig, config.Secrets{"new"}, false},
		{"body changed", append([]byte(" "), body...), sig, config.Secrets{"new"}, false},
		{"truncated signature", body, sig[:63], config.Secrets{"new"}, false},
		{"signature too long", body, sig + "0", config.Secrets{"new"}, false},
		{"not hex", body, strings.Repeat("z", 64), config.Secrets{"new"}, false},
		{"empty signature", body, "", config.Secrets{"new"}, false},
		{"double prefix", body, "sha256=sha256=" + sig, config.Secrets{"new"}, false},
		// Fail closed.
		{"no secrets", body, sig, nil, false},
		{"only an empty secret", body, consolehook.Sign(body, ""), config.Secrets{""}, false},
		{"empty secret skipped", body, sig, config.Secrets{"", "new"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := consolehook.Verify(tt.body, tt.signature, tt.secrets); got != tt.want {
				t.Errorf("Verify = %v, want %v", got, tt.want)
			}
		})
	}
}
