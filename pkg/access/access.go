// Package access computes a Console user's effective permissions. The role →
// permission table is Mia-Platform's (embedded as data); bindings add up
// (direct and through groups), and a binding at a higher level is inherited
// by every lower level: a Company developer holds
// console.company.project.configuration.update, which on any Project of the
// Company means console.project.configuration.update.
package access

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
)

//go:embed console-roles-permissions.json
var tableJSON []byte

// Role ids of the Console.
const (
	Guest        = "guest"
	Reporter     = "reporter"
	Developer    = "developer"
	Maintainer   = "maintainer"
	ProjectAdmin = "project-admin"
	CompanyOwner = "company-owner"
)

// Levels at which a role can be bound.
const (
	LevelCompany     = "company"
	LevelProject     = "project"
	LevelEnvironment = "environment"
)

// Table maps roles to the permission keys they grant at each level.
type Table struct {
	roles       []string
	assignable  map[string][]string // role → levels
	company     map[string][]string // role → keys when bound on a Company
	project     map[string][]string // role → console.project.* keys when bound on a Project
	environment map[string][]string // role → console.environment.* keys when bound on an Environment
	known       map[string]bool
}

var defaultTable = sync.OnceValues(func() (*Table, error) { return parse(tableJSON) })

// Default returns the embedded table; it panics only if the embedded data is
// corrupt, which the package tests rule out.
func Default() *Table {
	t, err := defaultTable()
	if err != nil {
		panic(err)
	}
	return t
}

func parse(raw []byte) (*Table, error) {
	var doc struct {
		Roles []struct {
			ID           string   `json:"id"`
			AssignableAt []string `json:"assignableAt"`
		} `json:"roles"`
		CompanyLevel struct {
			Permissions []struct {
				Key   string   `json:"key"`
				Roles []string `json:"roles"`
			} `json:"permissions"`
		} `json:"companyLevel"`
		ProjectLevel struct {
			Permissions []struct {
				Key   string   `json:"key"`
				Roles []string `json:"roles"`
			} `json:"permissions"`
		} `json:"projectLevel"`
		RootLevel struct {
			Permissions []string `json:"permissions"`
		} `json:"rootLevel"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("access: role table: %w", err)
	}
	t := &Table{
		assignable: map[string][]string{}, company: map[string][]string{},
		project: map[string][]string{}, environment: map[string][]string{}, known: map[string]bool{},
	}
	for _, r := range doc.Roles {
		t.roles = append(t.roles, r.ID)
		t.assignable[r.ID] = r.AssignableAt
	}
	for _, p := range doc.CompanyLevel.Permissions {
		t.known[p.Key] = true
		for _, r := range p.Roles {
			t.company[r] = append(t.company[r], p.Key)
		}
	}
	for _, p := range doc.ProjectLevel.Permissions {
		t.known[p.Key] = true
		target := t.project
		if strings.HasPrefix(p.Key, "console.environment.") {
			target = t.environment
		}
		for _, r := range p.Roles {
			target[r] = append(target[r], p.Key)
		}
	}
	for _, k := range doc.RootLevel.Permissions {
		t.known[k] = true
	}
	if len(t.roles) != 6 || len(t.company) == 0 || len(t.project) == 0 {
		return nil, fmt.Errorf("access: role table is incomplete (%d roles)", len(t.roles))
	}
	return t, nil
}

// Roles lists the role ids.
func (t *Table) Roles() []string { return slices.Clone(t.roles) }

// IsRole reports whether id is a Console role.
func (t *Table) IsRole(id string) bool { return slices.Contains(t.roles, id) }

// Assignable reports whether role can be bound at level.
func (t *Table) Assignable(role, level string) bool {
	return slices.Contains(t.assignable[role], level)
}

// KnownPermission reports whether key is a Console permission key.
func (t *Table) KnownPermission(key string) bool { return t.known[key] }

// Bindings are the roles a user holds in one Company: directly and through
// its groups, at each level.
type Bindings struct {
	CompanyRoles []string
	// Projects maps a project id to the roles bound on it.
	Projects map[string]ProjectBinding
}

// ProjectBinding is a user's roles on one Project and its Environments.
type ProjectBinding struct {
	Roles []string
	// Environments maps an environment id to the roles bound on it.
	Environments map[string][]string
}

// Merge adds other's roles to b (bindings add up).
func (b *Bindings) Merge(other Bindings) {
	b.CompanyRoles = appendNew(b.CompanyRoles, other.CompanyRoles...)
	for pid, pb := range other.Projects {
		if b.Projects == nil {
			b.Projects = map[string]ProjectBinding{}
		}
		cur := b.Projects[pid]
		cur.Roles = appendNew(cur.Roles, pb.Roles...)
		for env, roles := range pb.Environments {
			if cur.Environments == nil {
				cur.Environments = map[string][]string{}
			}
			cur.Environments[env] = appendNew(cur.Environments[env], roles...)
		}
		b.Projects[pid] = cur
	}
}

// Empty reports whether the user holds no role at all.
func (b Bindings) Empty() bool {
	if len(b.CompanyRoles) > 0 {
		return false
	}
	for _, p := range b.Projects {
		if len(p.Roles) > 0 {
			return false
		}
		for _, e := range p.Environments {
			if len(e) > 0 {
				return false
			}
		}
	}
	return true
}

func appendNew(dst []string, src ...string) []string {
	for _, s := range src {
		if s != "" && !slices.Contains(dst, s) {
			dst = append(dst, s)
		}
	}
	return dst
}

// Scope is where permissions are evaluated: a Company, one of its Projects,
// or one Environment of a Project.
type Scope struct {
	ProjectID     string
	EnvironmentID string
}

// Permissions returns the keys b grants at scope, sorted.
func (t *Table) Permissions(b Bindings, s Scope) []string {
	set := map[string]bool{}
	for _, r := range b.CompanyRoles {
		for _, k := range t.company[r] {
			set[k] = true
		}
	}
	if s.ProjectID != "" {
		// Company bindings are inherited by every Project.
		for k := range set {
			if rest, ok := strings.CutPrefix(k, "console.company.project."); ok {
				set["console.project."+rest] = true
			}
		}
		pb := b.Projects[s.ProjectID]
		for _, r := range pb.Roles {
			for _, k := range t.project[r] {
				set[k] = true
			}
		}
		if s.EnvironmentID != "" {
			// Project bindings (and inherited Company ones) reach every Environment.
			for k := range set {
				if rest, ok := strings.CutPrefix(k, "console.project.environment."); ok {
					set["console.environment."+rest] = true
				}
			}
			for _, r := range pb.Environments[s.EnvironmentID] {
				for _, k := range t.environment[r] {
					set[k] = true
				}
			}
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Missing returns the required keys b does not grant at scope (nil when all are held).
func (t *Table) Missing(b Bindings, s Scope, required []string) []string {
	have := t.Permissions(b, s)
	var missing []string
	for _, k := range required {
		if _, ok := slices.BinarySearch(have, k); !ok {
			missing = append(missing, k)
		}
	}
	return missing
}
