package rules_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/rules"
)

// FuzzParse: whatever the rules file holds, Parse either refuses it with
// errors that each name the file (so an operator can find the problem) or
// returns rules that are usable as they are: unique ids, known events.
func FuzzParse(f *testing.F) {
	builtin, err := os.ReadFile("default-rules.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(builtin)
	f.Add([]byte(`version: 1
rules:
  - id: devs
    scope: {event: console.update.user.permission, companyIds: [acme], isProduction: true}
    requirements: {necessaryPermissions: [console.project.configuration.update]}
    actions: {gitlab: {groups: [{path: "acme/{{projectId}}", role: developer}]}, okta: {groups: ["${GROUP}"]}}
  - id: domains
    scope: {event: okta.verify.email}
    requirements: {allowedDomains: [example.com]}
`))
	f.Add([]byte("version: 2\nrules: []\n"))
	f.Add([]byte("version: 1\nrules:\n  - id: a\n    scop: {}\n"))
	const name = "fuzz.yaml"
	env := func(k string) string { return map[string]string{"GROUP": "okta-devs"}[k] }
	cat := events.Default()
	f.Fuzz(func(t *testing.T, doc []byte) {
		set, err := rules.Parse(name, doc, env, false)
		if err != nil {
			var joined interface{ Unwrap() []error }
			errs := []error{err}
			if errors.As(err, &joined) {
				errs = joined.Unwrap()
			}
			for _, e := range errs {
				if !strings.HasPrefix(e.Error(), name+":") {
					t.Fatalf("an error that does not name the file: %q", e)
				}
			}
			return
		}
		seen := map[string]bool{}
		for _, r := range set.Rules() {
			if r.ID == "" || seen[r.ID] {
				t.Fatalf("rule id %q empty or repeated", r.ID)
			}
			seen[r.ID] = true
			if _, ok := cat.Lookup(r.Scope.Event); !ok {
				t.Fatalf("rule %s: unknown event %q accepted", r.ID, r.Scope.Event)
			}
		}
	})
}
