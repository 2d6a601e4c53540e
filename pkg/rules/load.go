package rules

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"
)

//go:embed default-rules.yaml
var defaultRules []byte

// DefaultName names the built-in rules in messages.
const DefaultName = "built-in rules"

// Set is a validated set of rules.
type Set struct {
	// Source is the file the rules came from, or DefaultName.
	Source string
	rules  []*Rule
	// notes say what the built-in rules left out for lack of configuration.
	notes []string
}

// Load reads the rules file at path, or the built-in rules when path is
// empty. ${NAME} references are filled from getenv. Every problem is
// reported, one error each, naming the file, the rule and the field.
func Load(path string, getenv func(string) string) (*Set, error) {
	if path == "" {
		return Parse(DefaultName, defaultRules, getenv, true)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("IDSYNC_RULES_FILE: %w", err)
	}
	return Parse(path, data, getenv, false)
}

// Parse validates a rules document. With builtin set, an action entry whose
// ${NAME} is unset is left out (and noted) instead of being an error: the
// built-in rules name things, like the GitHub organization, that only the
// operator knows.
func Parse(name string, data []byte, getenv func(string) string, builtin bool) (*Set, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f File
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty rules file", name)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	v := &validator{file: name, getenv: getenv, builtin: builtin}
	set := v.file_(&f)
	if len(v.errs) > 0 {
		return nil, errors.Join(v.errs...)
	}
	set.Source = name
	return set, nil
}

// Rules returns every rule in file order.
func (s *Set) Rules() []*Rule { return s.rules }

// For returns the rules of an event, in file order.
func (s *Set) For(event string) []*Rule {
	var out []*Rule
	for _, r := range s.rules {
		if r.Scope.Event == event {
			out = append(out, r)
		}
	}
	return out
}

// Notes say what the built-in rules left out (e.g. GitHub actions without
// IDSYNC_GITHUB_ORG).
func (s *Set) Notes() []string { return s.notes }

// AllowedDomains is the union of the okta.verify.email rules' allowedDomains.
func (s *Set) AllowedDomains() []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range s.For(EventVerifyEmail) {
		for _, d := range r.Requirements.AllowedDomains {
			if !seen[d] {
				seen[d] = true
				out = append(out, d)
			}
		}
	}
	return out
}
