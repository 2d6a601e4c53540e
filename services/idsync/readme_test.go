package idsync

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/idsync/idsync/pkg/apierror"
	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/services/eventlog"
)

// TestREADMEDocumentsEverything keeps the README's tables in step with the
// code: every configuration variable with its default, every error code with
// its status.
func TestREADMEDocumentsEverything(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	var cfg Config
	var settings bus.Settings
	var logCfg eventlog.Config
	for _, c := range []any{&cfg, &settings, &logCfg} {
		fields, err := config.Fields(c)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fields {
			row := rowOf(readme, "| `"+f.Env+"` |")
			if row == "" {
				t.Errorf("README has no row for %s", f.Env)
				continue
			}
			if f.Default != "" && !strings.Contains(row, "`"+f.Default+"`") {
				t.Errorf("README row of %s lacks its default %q: %s", f.Env, f.Default, row)
			}
		}
	}
	for _, e := range apierror.Catalog {
		row := rowOf(readme, "| `"+string(e.Code)+"` |")
		if row == "" || !strings.Contains(row, fmt.Sprintf("| %d |", e.Status)) {
			t.Errorf("README error table: %s should be listed with status %d (row %q)", e.Code, e.Status, row)
		}
	}
	for _, code := range eventlog.ErrorCodes() {
		row := rowOf(readme, fmt.Sprintf("| `%d` |", code))
		if row == "" || !strings.Contains(row, fmt.Sprintf("| %d |", eventlog.ErrorStatus(code))) || !strings.Contains(row, eventlog.ErrorMessage(code)) {
			t.Errorf("README events API error table: %d should be listed with status %d and message %q (row %q)", code, eventlog.ErrorStatus(code), eventlog.ErrorMessage(code), row)
		}
	}
}

func rowOf(doc, prefix string) string {
	for line := range strings.SplitSeq(doc, "\n") {
		if strings.HasPrefix(line, prefix) {
			return line
		}
	}
	return ""
}
