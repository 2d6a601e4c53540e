package reconcile_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/reconcile"
	"github.com/idsync/idsync/pkg/rules"
)

func TestConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  map[string]string
		want reconcile.Config
		errs []string
	}{
		{"defaults", nil, reconcile.Config{Interval: 6 * time.Hour, Companies: []string{}}, nil},
		{"set", map[string]string{"IDSYNC_RECONCILE_INTERVAL": "30m", "IDSYNC_RECONCILE_APPLY": "true", "IDSYNC_RECONCILE_REMOVE_UNMANAGED": "true", "IDSYNC_RECONCILE_COMPANIES": "acme, beta"},
			reconcile.Config{Interval: 30 * time.Minute, Apply: true, RemoveUnmanaged: true, Companies: []string{"acme", "beta"}}, nil},
		{"only on demand", map[string]string{"IDSYNC_RECONCILE_INTERVAL": "0"}, reconcile.Config{Companies: []string{}}, nil},
		{"every problem", map[string]string{"IDSYNC_RECONCILE_INTERVAL": "10s", "IDSYNC_RECONCILE_COMPANIES": "acme,acme,a\u0000b"},
			reconcile.Config{}, []string{"IDSYNC_RECONCILE_INTERVAL: 10s", `"acme" is listed twice`, `"a\x00b" is not a Console company id`}},
		{"negative interval", map[string]string{"IDSYNC_RECONCILE_INTERVAL": "-1h"}, reconcile.Config{}, []string{"IDSYNC_RECONCILE_INTERVAL: -1h0m0s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var c reconcile.Config
			if _, err := config.Load(&c, "test", nil, func(k string) string { return tc.env[k] }, &strings.Builder{}); err != nil {
				t.Fatal(err)
			}
			err := c.Validate()
			if len(tc.errs) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(c, tc.want) {
					t.Errorf("config %+v, want %+v", c, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if got := len(strings.Split(err.Error(), "\n")); got != len(tc.errs) {
				t.Errorf("%d errors, want one per problem (%d): %v", got, len(tc.errs), err)
			}
			for _, want := range tc.errs {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

// The companies a reconciliation covers: configured, named by rules
// (filters; okta.create.user's console companies) and held by grants.
func TestCompaniesFor(t *testing.T) {
	t.Parallel()
	rs, err := rules.Parse("rules.yaml", []byte(`version: 1
rules:
  - id: developers
    scope: {event: console.update.user.permission, companyIds: [acme, beta]}
    requirements: {necessaryPermissions: [console.project.configuration.update]}
    actions:
      okta: {groups: ["console-{{companyId}}"]}
  - id: new-users
    scope: {event: okta.create.user}
    actions:
      console: {companies: [{id: gamma, role: guest}]}
  - id: leavers
    scope: {event: okta.delete.user}
    actions:
      console: {companies: [{id: delta}]}
`), func(string) string { return "" }, false)
	if err != nil {
		t.Fatal(err)
	}
	c := reconcile.Config{Companies: []string{"zeta", "acme"}}
	got := c.CompaniesFor(rs, []string{"omega", "beta", ""})
	want := []string{"acme", "beta", "gamma", "omega", "zeta"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("companies %v, want %v", got, want)
	}
	if got := (reconcile.Config{}).CompaniesFor(nil, nil); len(got) != 0 {
		t.Errorf("nothing configured: %v", got)
	}
}
