package access_test

import (
	"slices"
	"testing"

	"github.com/idsync/idsync/pkg/access"
)

func TestRoleTable(t *testing.T) {
	table := access.Default()
	if got := table.Roles(); !slices.Equal(got, []string{"guest", "reporter", "developer", "maintainer", "project-admin", "company-owner"}) {
		t.Fatalf("roles %v", got)
	}
	for _, tc := range []struct {
		role, level string
		want        bool
	}{
		{"company-owner", access.LevelCompany, true}, {"company-owner", access.LevelProject, false},
		{"reporter", access.LevelEnvironment, true}, {"developer", access.LevelEnvironment, false},
		{"maintainer", access.LevelEnvironment, true}, {"guest", access.LevelProject, true},
	} {
		if got := table.Assignable(tc.role, tc.level); got != tc.want {
			t.Errorf("Assignable(%s, %s) = %v", tc.role, tc.level, got)
		}
	}
	for _, k := range []string{"console.company.view", "console.project.configuration.update", "console.environment.deploy.trigger", "console.root.company.create"} {
		if !table.KnownPermission(k) {
			t.Errorf("%s unknown", k)
		}
	}
	if table.KnownPermission("console.company.details.view") {
		t.Error("console.company.details.view does not exist in the Console")
	}
}

func TestEffectivePermissions(t *testing.T) {
	table := access.Default()
	devOnP1 := access.Bindings{Projects: map[string]access.ProjectBinding{"p1": {Roles: []string{"developer"}}}}
	companyDev := access.Bindings{CompanyRoles: []string{"developer"}}
	envMaintainer := access.Bindings{Projects: map[string]access.ProjectBinding{"p1": {Environments: map[string][]string{"prod": {"maintainer"}}}}}
	owner := access.Bindings{CompanyRoles: []string{"company-owner"}}
	tests := []struct {
		name  string
		b     access.Bindings
		scope access.Scope
		key   string
		want  bool
	}{
		{"project developer edits the project", devOnP1, access.Scope{ProjectID: "p1"}, "console.project.configuration.update", true},
		{"project developer not another project", devOnP1, access.Scope{ProjectID: "p2"}, "console.project.configuration.update", false},
		{"project developer has no company view", devOnP1, access.Scope{}, "console.company.view", false},
		{"company developer inherits on every project", companyDev, access.Scope{ProjectID: "p7"}, "console.project.configuration.update", true},
		{"company developer cannot deploy", companyDev, access.Scope{ProjectID: "p7", EnvironmentID: "prod"}, "console.environment.deploy.trigger", false},
		{"environment maintainer deploys there", envMaintainer, access.Scope{ProjectID: "p1", EnvironmentID: "prod"}, "console.environment.deploy.trigger", true},
		{"environment maintainer not elsewhere", envMaintainer, access.Scope{ProjectID: "p1", EnvironmentID: "dev"}, "console.environment.deploy.trigger", false},
		{"environment maintainer cannot edit the project", envMaintainer, access.Scope{ProjectID: "p1"}, "console.project.configuration.update", false},
		{"owner deploys everywhere by inheritance", owner, access.Scope{ProjectID: "p1", EnvironmentID: "prod"}, "console.environment.deploy.trigger", true},
		{"owner manages company users", owner, access.Scope{}, "console.company.users.manage", true},
		{"nobody holds root keys", owner, access.Scope{}, "console.root.company.create", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := len(table.Missing(tc.b, tc.scope, []string{tc.key})) == 0
			if got != tc.want {
				t.Fatalf("%s at %+v = %v, want %v (have %v)", tc.key, tc.scope, got, tc.want, table.Permissions(tc.b, tc.scope))
			}
		})
	}
}

func TestBindingsMergeAndEmpty(t *testing.T) {
	var b access.Bindings
	if !b.Empty() {
		t.Fatal("zero bindings not empty")
	}
	b.Merge(access.Bindings{CompanyRoles: []string{"guest"}})
	b.Merge(access.Bindings{CompanyRoles: []string{"guest", "reporter"}, Projects: map[string]access.ProjectBinding{"p": {Roles: []string{"developer"}}}})
	b.Merge(access.Bindings{Projects: map[string]access.ProjectBinding{"p": {Environments: map[string][]string{"e": {"maintainer"}}}}})
	if !slices.Equal(b.CompanyRoles, []string{"guest", "reporter"}) || b.Projects["p"].Roles[0] != "developer" || b.Projects["p"].Environments["e"][0] != "maintainer" || b.Empty() {
		t.Fatalf("merged %+v", b)
	}
}
