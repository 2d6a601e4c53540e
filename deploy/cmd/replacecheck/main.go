// Command replacecheck reads `go mod edit -json` on stdin and prints the
// replace directives that point outside this repository — anything but a
// relative path to one of its own modules (github.com/idsync/idsync/...).
// `make deps-check` fails when it prints anything: a replace to a fork or
// another version would bypass go.sum's review of what is built.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

type goMod struct {
	Replace []struct {
		Old, New struct{ Path, Version string }
	}
}

func main() {
	var m goMod
	if err := json.NewDecoder(os.Stdin).Decode(&m); err != nil {
		fmt.Fprintln(os.Stderr, "replacecheck:", err)
		os.Exit(2)
	}
	for _, r := range m.Replace {
		if !local(r.Old.Path, r.New.Path, r.New.Version) {
			fmt.Printf("%s => %s %s\n", r.Old.Path, r.New.Path, r.New.Version)
		}
	}
}

// local: the repository's own module, replaced by a relative directory.
func local(old, newPath, newVersion string) bool {
	return strings.HasPrefix(old, "github.com/idsync/idsync/") && newVersion == "" &&
		(strings.HasPrefix(newPath, "../") || strings.HasPrefix(newPath, "./"))
}
