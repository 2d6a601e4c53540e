package identity_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/bus/bustest"
	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/identity"
)

// bucket opens the identities bucket of a fresh namespace on srv.
func bucket(t *testing.T, srv *bustest.Server) jetstream.KeyValue {
	t.Helper()
	nc, err := nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := bus.KeyValue(context.Background(), js, bustest.Namespace(t), bus.BucketIdentities, 1)
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestKeyIsStableCaseInsensitiveAndHidesTheAddress(t *testing.T) {
	a, b := identity.Key("Ann@Example.com"), identity.Key(" ann@example.com ")
	if a != b {
		t.Fatalf("keys differ: %s %s", a, b)
	}
	if !strings.HasPrefix(a, "github.") || len(a) != len("github.")+48 || strings.Contains(a, "ann") {
		t.Fatalf("key %q", a)
	}
}

func TestSetResolveDeleteList(t *testing.T) {
	t.Parallel()
	m := identity.Open(bucket(t, bustest.Start(t)))
	ctx := context.Background()
	if _, found, err := m.Resolve(ctx, "ann@example.com"); err != nil || found {
		t.Fatalf("empty map: found %v, %v", found, err)
	}
	if err := m.Set(ctx, "Ann@Example.com", "ann-gh", identity.SourceCLI); err != nil {
		t.Fatal(err)
	}
	if err := m.Set(ctx, "bob@example.com", "bob", identity.SourceCLI); err != nil {
		t.Fatal(err)
	}
	login, found, err := m.Resolve(ctx, "ANN@example.com")
	if err != nil || !found || login != "ann-gh" {
		t.Fatalf("resolve: %q %v %v", login, found, err)
	}
	es, err := m.List(ctx)
	if err != nil || len(es) != 2 || es[0].Email != "ann@example.com" || es[0].Source != identity.SourceCLI || es[0].Updated.IsZero() {
		t.Fatalf("list: %+v %v", es, err)
	}
	if err := m.Delete(ctx, "ann@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := m.Delete(ctx, "nobody@example.com"); err != nil {
		t.Fatalf("deleting an absent entry: %v", err)
	}
	if _, found, _ := m.Resolve(ctx, "ann@example.com"); found {
		t.Fatal("still resolved after Delete")
	}
	if _, found, _ := m.Resolve(ctx, ""); found {
		t.Fatal("the empty email resolved")
	}
}

func TestSetRejectsBadInput(t *testing.T) {
	t.Parallel()
	m := identity.Open(bucket(t, bustest.Start(t)))
	for _, tc := range []struct{ email, login string }{
		{"not-an-email", "ann"}, {"ann@example.com", "-ann"}, {"ann@example.com", "a--b"},
		{"ann@example.com", strings.Repeat("a", 40)}, {"ann@example.com", "ann_gh"},
	} {
		if err := m.Set(context.Background(), tc.email, tc.login, identity.SourceCLI); errclass.Of(err) != errclass.Permanent {
			t.Errorf("Set(%q, %q): %v, want a permanent error", tc.email, tc.login, err)
		}
	}
}

// TestEntriesPersistInTheBucket restarts the server and reads through a
// new connection: the map lives in JetStream, not in the process.
func TestEntriesPersistInTheBucket(t *testing.T) {
	t.Parallel()
	srv := bustest.Start(t)
	ns := bustest.Namespace(t)
	open := func() *identity.Map {
		nc, err := nats.Connect(srv.URL(), nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		js, _ := jetstream.New(nc)
		kv, err := bus.KeyValue(context.Background(), js, ns, bus.BucketIdentities, 1)
		if err != nil {
			t.Fatal(err)
		}
		return identity.Open(kv)
	}
	if err := open().Set(context.Background(), "ann@example.com", "ann-gh", identity.SourceFile); err != nil {
		t.Fatal(err)
	}
	srv.Restart()
	login, found, err := open().Resolve(context.Background(), "ann@example.com")
	if err != nil || !found || login != "ann-gh" {
		t.Fatalf("after restart: %q %v %v", login, found, err)
	}
}

func TestLoadFile(t *testing.T) {
	t.Parallel()
	srv := bustest.Start(t)
	tests := []struct {
		name, file, body string
		before           map[string]string // entries set by the CLI before the load
		want             identity.LoadResult
		logins           map[string]string
	}{
		{name: "csv with header", file: "ids.csv",
			body:   "email,login\nann@example.com,ann-gh\n# a comment\n BOB@example.com , bob\n",
			before: map[string]string{"bob@example.com": "robert"},
			want:   identity.LoadResult{Added: 1, Updated: 1}, logins: map[string]string{"ann@example.com": "ann-gh", "bob@example.com": "bob"}},
		{name: "csv without header", file: "ids.csv", body: "ann@example.com,ann-gh\n",
			want: identity.LoadResult{Added: 1}, logins: map[string]string{"ann@example.com": "ann-gh"}},
		{name: "yaml", file: "ids.yaml", body: "- email: ann@example.com\n  login: ann-gh\n- {email: cid@example.com, login: cid}\n",
			want: identity.LoadResult{Added: 2}, logins: map[string]string{"ann@example.com": "ann-gh", "cid@example.com": "cid"}},
		{name: "the same mapping is left unchanged", file: "ids.yml", body: "- {email: old@example.com, login: Old}\n",
			before: map[string]string{"old@example.com": "old"},
			want:   identity.LoadResult{Unchanged: 1}, logins: map[string]string{"old@example.com": "old"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := identity.Open(bucket(t, srv))
			ctx := context.Background()
			for email, login := range tc.before {
				if err := m.Set(ctx, email, login, identity.SourceCLI); err != nil {
					t.Fatal(err)
				}
			}
			got, err := m.LoadFile(ctx, writeFile(t, tc.file, tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("result %+v, want %+v", got, tc.want)
			}
			for email, want := range tc.logins {
				e, _, _ := m.Get(ctx, email)
				if e.Login != want {
					t.Errorf("%s → %q, want %q", email, e.Login, want)
				}
				if wantSource := identity.SourceFile; tc.before[email] == want {
					wantSource = identity.SourceCLI
					if e.Source != wantSource {
						t.Errorf("%s source %q, want %q", email, e.Source, wantSource)
					}
				} else if e.Source != wantSource {
					t.Errorf("%s source %q, want %q", email, e.Source, wantSource)
				}
			}
		})
	}
}

func TestParseFileReportsEveryProblem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file, body string
		want             []string
	}{
		{name: "csv", file: "x.csv",
			body: "email,login\nann,ann\nbob@example.com,-bob\ncid@example.com\ndan@example.com,dan\nDAN@example.com,daniel\n",
			want: []string{"x.csv:2: the email is not", "x.csv:3: \"-bob\" is not a GitHub login", "x.csv:4: want 2 fields", "x.csv:6: the same email is mapped to dan on line 5"}},
		{name: "yaml not a list", file: "x.yaml", body: "email: a@b.c\n", want: []string{"want a list"}},
		{name: "yaml bad item", file: "x.yaml", body: "- [a, b]\n- {email: a@b.c, login: \"\"}\n",
			want: []string{"x.yaml:1: want {email, login}", "x.yaml:2: \"\" is not a GitHub login"}},
		{name: "unknown extension", file: "x.txt", body: "", want: []string{"want a .csv, .yaml or .yml file"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := identity.ParseFile(writeFile(t, tc.file, tc.body))
			if err == nil {
				t.Fatal("no error")
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.want) {
				t.Fatalf("%d errors, want %d:\n%v", len(lines), len(tc.want), err)
			}
			for i, w := range tc.want {
				if !strings.Contains(lines[i], w) {
					t.Errorf("error %d %q, want it to contain %q", i, lines[i], w)
				}
			}
		})
	}
	if _, err := identity.ParseFile(filepath.Join(t.TempDir(), "missing.csv")); err == nil {
		t.Error("a missing file parsed")
	}
}
