package gitlabsync_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/idsync/idsync/pkg/rules"
)

// TestMain loads the rules once before the parallel tests start:
// pkg/rules compiles its requirement schemas lazily into a package
// variable without synchronisation, so the first two concurrent loads race.
func TestMain(m *testing.M) {
	if _, err := rules.Parse("rules.yaml", []byte(testRules), func(string) string { return "" }, false); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}
