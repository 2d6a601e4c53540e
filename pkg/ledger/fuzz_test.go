package ledger_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/internal/fuzzing"
	"github.com/idsync/idsync/pkg/ledger"
)

// FuzzGet: a grant put in the ledger reads back as it was (the key matches
// the user in any ASCII case), and whatever bytes a ledger entry holds, Get
// returns the grant they encode or a permanent error (a corrupt entry is
// dead-lettered with its reason, never retried forever); Delete forgets it.
func FuzzGet(f *testing.F) {
	f.Add("gitlab", "acme/payments", "Ann@Example.com", "developer", "project-developers", []byte(`{"provider":"gitlab","target":"acme/payments","user":"ann@example.com","role":"maintainer","rule_id":"r","at":"2026-11-23T10:00:00Z"}`))
	f.Add("github", "acme/team", "ann", "", "", []byte(`{"at":"not a time"}`))
	f.Add("okta", "00g1", "00u1", "member", "r", []byte(`null`))
	f.Add("console", "acme", "u", "guest", "r", []byte("\xff{"))
	f.Add("gitlab", "g", "u", "", "", []byte(`{"provider":7}`))
	f.Fuzz(func(t *testing.T, provider, target, user, role, rule string, stored []byte) {
		ctx := context.Background()
		kv := fuzzing.NewKV()
		l := ledger.New(nil, kv) // ForUser, the only user of the JetStream context, is not fuzzed
		at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
		put := ledger.Grant{Provider: provider, Target: target, User: user, Role: role, RuleID: rule, CompanyID: "acme", At: at}
		if err := l.Put(ctx, put); err != nil {
			t.Fatal(err)
		}
		upper := strings.ToUpper(user)
		for _, u := range []string{user, upper} {
			//lint:ignore SA6005 the ledger keys on strings.ToLower, which EqualFold's folding does not equal
			if u == upper && strings.ToLower(upper) != strings.ToLower(user) {
				continue // Unicode case mapping is not an involution
			}
			g, found, err := l.Get(ctx, provider, target, u)
			if err != nil || !found {
				t.Fatalf("Get after Put as %q: %v %v", u, found, err)
			}
			if validUTF8(provider, target, user, role, rule) && (g.Provider != put.Provider || g.Target != put.Target || g.User != put.User ||
				g.Role != put.Role || g.RuleID != put.RuleID || g.CompanyID != put.CompanyID || !g.At.Equal(at)) {
				t.Fatalf("put %+v, got %+v", put, g)
			}
		}

		keys := kv.Stored()
		if len(keys) != 1 {
			t.Fatalf("one grant made %d keys", len(keys))
		}
		kv.Set(keys[0], stored)
		g, found, err := l.Get(ctx, provider, target, user)
		var want ledger.Grant
		if json.Unmarshal(stored, &want) != nil {
			if err == nil || found || errclass.Of(err) != errclass.Permanent {
				t.Fatalf("corrupt entry %q: %+v %v %v (class %s)", stored, g, found, err, errclass.Of(err))
			}
		} else if err != nil || !found || g.Provider != want.Provider || g.User != want.User || g.Target != want.Target || !g.At.Equal(want.At) {
			t.Fatalf("entry %q: %+v %v %v, want %+v", stored, g, found, err, want)
		}

		if err := l.Delete(ctx, provider, target, user); err != nil {
			t.Fatal(err)
		}
		if _, found, err := l.Get(ctx, provider, target, user); found || err != nil {
			t.Fatalf("after Delete: found %v, %v", found, err)
		}
	})
}

func validUTF8(ss ...string) bool {
	for _, s := range ss {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}
