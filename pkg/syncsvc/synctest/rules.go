package synctest

import (
	"os"
	"path/filepath"
	"testing"
)

func writeRules(t testing.TB, doc string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
