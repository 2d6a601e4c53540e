package rules

import (
	"regexp"
)

// Variables a name may use.
const (
	VarCompanyID     = "companyId"
	VarProjectID     = "projectId"
	VarEnvironmentID = "environmentId"
)

var templateVar = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_]+)\s*\}\}`)

// variables returns the template variables s uses.
func variables(s string) []string {
	var out []string
	for _, m := range templateVar.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

// Context is what a rule is evaluated for: a Company, one of its Projects,
// or one Environment of a Project.
type Context struct {
	CompanyID     string
	ProjectID     string
	EnvironmentID string
	// IsProduction is known for environment contexts only.
	IsProduction *bool
}

// Expand fills the template variables of s from ctx.
func (c Context) Expand(s string) string {
	return templateVar.ReplaceAllStringFunc(s, func(m string) string {
		switch templateVar.FindStringSubmatch(m)[1] {
		case VarCompanyID:
			return c.CompanyID
		case VarProjectID:
			return c.ProjectID
		case VarEnvironmentID:
			return c.EnvironmentID
		}
		return m
	})
}

var envVar = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandEnv replaces ${NAME} with getenv(NAME) and reports the names that
// were empty.
func expandEnv(s string, getenv func(string) string) (string, []string) {
	var empty []string
	out := envVar.ReplaceAllStringFunc(s, func(m string) string {
		name := envVar.FindStringSubmatch(m)[1]
		v := getenv(name)
		if v == "" {
			empty = append(empty, name)
		}
		return v
	})
	return out, empty
}
