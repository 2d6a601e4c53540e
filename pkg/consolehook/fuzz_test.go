package consolehook_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/apierror"
	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/consolehook"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/internal/fuzzing"
	"github.com/idsync/idsync/pkg/testdata"
)

// FuzzParse: whatever arrives at /console/events, the gateway answers with a
// catalogued client error or publishes an event that encodes, and a re-sent
// body is recognised as the same delivery.
func FuzzParse(f *testing.F) {
	fuzzing.LimitMinimize(2 * time.Second)
	for _, name := range testdata.ConsoleEventNames() {
		f.Add(testdata.Console(name))
	}
	p := newParser(f, 256)
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := p.Parse(body, meta)
		if err != nil {
			var ae *apierror.Error
			if !errors.As(err, &ae) {
				t.Fatalf("error is %T, not *apierror.Error: %v", err, err)
			}
			switch ae.Code {
			case apierror.InvalidJSON, apierror.SchemaViolation, apierror.UnknownEvent:
			default:
				t.Fatalf("unexpected code %s: %v", ae.Code, err)
			}
			return
		}
		again, err := p.Parse(body, meta)
		if err != nil || again.ID != ev.ID {
			t.Fatalf("second parse: id %q, %v; first %q", again.ID, err, ev.ID)
		}
		if _, err := events.Encode(events.DefaultNamespace, ev); err != nil {
			t.Fatalf("parsed event does not encode: %v", err)
		}
	})
}

// FuzzVerify: Verify agrees with the rule it implements, stated plainly (the
// header, blanks trimmed and an optional case-insensitive "sha256=" removed,
// equals, ignoring case, the signature of the body under one of the
// non-empty secrets); a body signed with a configured secret verifies, one
// signed with any other secret does not, and no header value makes Verify
// panic.
func FuzzVerify(f *testing.F) {
	fuzzing.LimitMinimize(2 * time.Second)
	for _, name := range testdata.ConsoleEventNames() {
		f.Add(testdata.Console(name), "webhook-secret", "other-secret", "sha256="+consolehook.Sign(testdata.Console(name), "webhook-secret"))
	}
	f.Fuzz(func(t *testing.T, body []byte, secret, other, signature string) {
		for _, secrets := range []config.Secrets{nil, {config.Secret(secret)}, {config.Secret(secret), config.Secret(other)}} {
			want := false
			for _, s := range secrets {
				want = want || (s != "" && strings.EqualFold(signatureReference(signature), consolehook.Sign(body, s.Reveal())))
			}
			if got := consolehook.Verify(body, signature, secrets); got != want {
				t.Fatalf("Verify(%q, %q, %d secrets) = %v, want %v", body, signature, len(secrets), got, want)
			}
		}
		if secret == "" {
			// An empty secret is "not configured" and matches nothing.
			if consolehook.Verify(body, consolehook.Sign(body, ""), config.Secrets{""}) {
				t.Fatal("an empty secret verified a signature")
			}
			return
		}
		secrets := config.Secrets{config.Secret(secret)}
		sig := consolehook.Sign(body, secret)
		if !consolehook.Verify(body, sig, secrets) {
			t.Fatal("own signature does not verify")
		}
		if !consolehook.Verify(body, "sha256="+sig, config.Secrets{"", config.Secret(other), config.Secret(secret)}) {
			t.Fatal("own signature does not verify among other secrets")
		}
		if other != secret && consolehook.Verify(body, consolehook.Sign(body, other), secrets) {
			t.Fatalf("a signature made with %q verifies under %q", other, secret)
		}
	})
}

// signatureReference is how the header is read: blanks trimmed, then an
// optional "sha256=" in any case removed.
func signatureReference(header string) string {
	s := strings.TrimSpace(header)
	if len(s) >= len("sha256=") && strings.EqualFold(s[:len("sha256=")], "sha256=") {
		s = s[len("sha256="):]
	}
	return s
}
