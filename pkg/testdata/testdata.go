// Package testdata gives every module's tests the same webhook fixtures:
// the Console examples of seed 001 and Okta's public sample payloads.
package testdata

import (
	"embed"
	"io/fs"
	"path"
	"strings"
)

//go:embed console/*.json okta/*.json
var files embed.FS

// Console returns the Console webhook example for eventName.
func Console(eventName string) []byte { return mustRead("console/" + eventName + ".json") }

// Okta returns an Okta fixture by file name without extension, e.g.
// "event-hook.user-lifecycle-deactivate".
func Okta(name string) []byte { return mustRead("okta/" + name + ".json") }

// ConsoleEventNames lists the Console examples available.
func ConsoleEventNames() []string {
	entries, _ := fs.ReadDir(files, "console")
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), path.Ext(e.Name())))
	}
	return out
}

func mustRead(name string) []byte {
	b, err := files.ReadFile(name)
	if err != nil {
		panic("testdata: " + err.Error())
	}
	return b
}
