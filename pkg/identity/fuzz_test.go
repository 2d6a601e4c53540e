package identity_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/identity"
	"github.com/idsync/idsync/pkg/internal/fuzzing"
)

// FuzzParseFile: whatever an operator's mapping file holds, as CSV or YAML,
// ParseFile returns mappings that Set would take (a normalised email, a
// GitHub login, each email once) or errors that name the file; what it
// returns, written back as CSV, parses to the same mappings.
func FuzzParseFile(f *testing.F) {
	fuzzing.LimitMinimize(2 * time.Second)
	f.Add([]byte("email,login\nann@example.com,ann-gh\n# a comment\n Bob@Example.com , bob\n"), false)
	f.Add([]byte("- {email: ann@example.com, login: ann-gh}\n- email: bob@example.com\n  login: bob\n"), true)
	f.Add([]byte("ann@example.com,ann\nANN@example.com,other\n"), false)
	f.Add([]byte("\"ann@example.com\nx\",a\n"), false)
	f.Add([]byte("a@b,--\n@b,x\na@,x\na b@c,x\n"), false)
	f.Add([]byte("{email: ann@example.com}\n"), true)
	f.Add([]byte("- [1, 2]\n- null\n- {email: !!binary aGk=, login: x}\n"), true)
	// One directory for every input (a worker runs them one at a time): a
	// new one each time would cost more than the parse.
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, yaml bool) {
		name := "map.csv"
		if yaml {
			name = "map.yaml"
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		ms, err := identity.ParseFile(path)
		if err != nil && !strings.Contains(err.Error(), path) {
			t.Fatalf("error does not name the file: %v", err)
		}
		seen := map[string]bool{}
		var csv strings.Builder
		for _, m := range ms {
			switch {
			case m.Email != strings.ToLower(strings.TrimSpace(m.Email)):
				t.Fatalf("email %q is not normalised", m.Email)
			case !identity.ValidEmail(m.Email) || !identity.ValidLogin(m.Login):
				t.Fatalf("invalid mapping %q → %q returned", m.Email, m.Login)
			case seen[m.Email]:
				t.Fatalf("email %q returned twice", m.Email)
			}
			seen[m.Email] = true
			csv.WriteString(m.Email + "," + m.Login + "\n")
		}
		if err != nil || len(ms) == 0 {
			return
		}
		back := filepath.Join(dir, "back.csv")
		if err := os.WriteFile(back, []byte(csv.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		again, err := identity.ParseFile(back)
		if err != nil || len(again) != len(ms) {
			t.Fatalf("written back as CSV: %d mappings, %v; want %d", len(again), err, len(ms))
		}
		for i := range ms {
			if again[i] != ms[i] {
				t.Fatalf("written back as CSV: %+v, want %+v", again[i], ms[i])
			}
		}
	})
}

// FuzzMapGet: whatever the identities bucket holds for an email, Get
// returns an entry with a login, nothing, or a permanent error that names
// neither the email nor the stored bytes; and after Set, Get returns what
// was set.
func FuzzMapGet(f *testing.F) {
	f.Add("ann@example.com", []byte(`{"email":"ann@example.com","login":"ann-gh","source":"file","updated":"2026-11-23T10:00:00Z"}`), "ann-gh")
	f.Add(" Ann@Example.com ", []byte(`{"login":""}`), "x")
	f.Add("ann@example.com", []byte(`{"login":"a","updated":"not a time"}`), "-bad-")
	f.Add("", []byte(`null`), "")
	f.Add("bob@example.com", []byte("\xff"), "bob")
	f.Fuzz(func(t *testing.T, email string, stored []byte, login string) {
		ctx := context.Background()
		kv := fuzzing.NewKV()
		m := identity.Open(kv)
		kv.Set(identity.Key(email), stored)
		e, found, err := m.Get(ctx, email)
		switch {
		case strings.TrimSpace(email) == "":
			if found || err != nil {
				t.Fatalf("blank email: found %v, %v", found, err)
			}
		case err != nil:
			if errclass.Of(err) != errclass.Permanent || found {
				t.Fatalf("stored %q: %v (class %s), found %v", stored, err, errclass.Of(err), found)
			}
			if strings.Contains(email, "@") && strings.Contains(err.Error(), email) {
				t.Fatalf("the error names the email: %v", err)
			}
			if len(stored) >= 16 && strings.Contains(err.Error(), string(stored)) {
				t.Fatalf("the error repeats the stored value: %v", err)
			}
		case !found || e.Login == "":
			t.Fatalf("stored %q: found %v, entry %+v", stored, found, e)
		default:
			var want identity.Entry
			if json.Unmarshal(stored, &want) != nil || want != e {
				t.Fatalf("stored %q read as %+v", stored, e)
			}
		}

		err = m.Set(ctx, email, login, identity.SourceFile)
		norm := strings.ToLower(strings.TrimSpace(email))
		if valid := identity.ValidEmail(norm) && identity.ValidLogin(strings.TrimSpace(login)); (err == nil) != valid {
			t.Fatalf("Set(%q, %q) = %v", email, login, err)
		}
		if err != nil {
			if errclass.Of(err) != errclass.Permanent || errors.Is(err, context.Canceled) {
				t.Fatalf("Set(%q, %q): %v", email, login, err)
			}
			return
		}
		e, found, err = m.Get(ctx, email)
		if err != nil || !found || e.Email != norm || e.Login != strings.TrimSpace(login) || e.Source != identity.SourceFile {
			t.Fatalf("after Set(%q, %q): %+v, %v, %v", email, login, e, found, err)
		}
	})
}
