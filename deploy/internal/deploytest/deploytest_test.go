package deploytest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestServicesHaveTheirVariables(t *testing.T) {
	t.Parallel()
	root := RepoRoot(t)
	for _, s := range Services {
		env, err := s.Env(nil)
		if err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
		for _, v := range []string{"IDSYNC_NATS_URL", "IDSYNC_STREAM_REPLICAS", "IDSYNC_NAMESPACE"} {
			if !env[v] {
				t.Errorf("%s does not read %s", s.Name, v)
			}
		}
		if s.Name != Provision && !HasCmd(root, s.Name) {
			t.Errorf("%s: no services/%[1]s/cmd/%[1]s", s.Name)
		}
	}
	names, err := RulesEnv(nil)
	if err != nil || len(names) == 0 {
		t.Fatalf("RulesEnv = %v, %v; want the built-in rules' variables", names, err)
	}
}

func TestNATSUsers(t *testing.T) {
	t.Parallel()
	got := NATSUsers(`
# { user: commented, password: $NO }
accounts { A { users: [
  { user: a, password: $PA }
  {
    user: "b"
    password: $PB
  }
]}}`)
	want := map[string]string{"a": "PA", "b": "PB"}
	if len(got) != len(want) || got["a"] != "PA" || got["b"] != "PB" {
		t.Errorf("NATSUsers = %v, want %v", got, want)
	}
	if data, err := os.ReadFile(filepath.Join(RepoRoot(t), "deploy", "nats", "accounts.conf")); err == nil {
		if users := NATSUsers(string(data)); users["gateway"] == "" {
			t.Errorf("deploy/nats/accounts.conf: no gateway user found in %v", users)
		}
	}
}
