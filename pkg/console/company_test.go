package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/access"
	"github.com/idsync/idsync/pkg/console"
	"github.com/idsync/idsync/pkg/consolefake"
)

// company fills a fake Console with n people whose access comes every way
// the Console grants it: company roles, project and environment bindings,
// groups with company and project roles, and people who are in the company
// only through a group.
func company(t *testing.T, n int) (*consolefake.Fake, *console.Client) {
	t.Helper()
	f := consolefake.New()
	f.AddServiceAccount("idsync", "service-account-secret")
	f.AddProject("acme", "p1", "Payments", consolefake.Environment{EnvID: "prod", IsProduction: true})
	f.AddGroup("acme", "g-devs", "devs", "")
	f.BindGroupProject("acme", "g-devs", "p1", access.Developer)
	f.AddGroup("acme", "g-guests", "guests", access.Guest)
	for i := range n {
		id := fmt.Sprintf("u%02d", i)
		f.AddPlatformUser(id, id+"@example.com")
		switch i % 5 {
		case 0:
			f.BindCompany("acme", id, access.Guest)
		case 1:
			f.BindProject("acme", id, "p1", access.Developer)
		case 2:
			f.BindEnvironment("acme", id, "p1", "prod", access.Maintainer)
			f.AddGroupMember("acme", "g-devs", id)
		case 3:
			f.AddGroupMember("acme", "g-guests", id) // in the company only through a group
		case 4:
			f.BindCompany("acme", id, access.Reporter)
			f.AddGroupMember("acme", "g-devs", id)
			f.AddGroupMember("acme", "g-guests", id)
		}
	}
	srv := httptest.NewServer(f.Handler())
	t.Cleanup(srv.Close)
	c, err := console.New(console.Config{URL: srv.URL, ClientID: "idsync", ClientSecret: "service-account-secret", Timeout: 5 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return f, c
}

// canonical writes bindings in one order, whatever order they were merged in.
func canonical(b access.Bindings) string {
	roles := func(r []string) string {
		r = slices.Clone(r)
		sort.Strings(r)
		return strings.Join(r, ",")
	}
	parts := []string{"company:" + roles(b.CompanyRoles)}
	for pid, pb := range b.Projects {
		parts = append(parts, "project "+pid+":"+roles(pb.Roles))
		for env, r := range pb.Environments {
			parts = append(parts, "env "+pid+"/"+env+":"+roles(r))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// TestCompanyAccessMatchesEffectiveBindings: every company user, each with
// exactly the bindings EffectiveBindings computes for them, from listings
// of one page and of several.
func TestCompanyAccessMatchesEffectiveBindings(t *testing.T) {
	t.Parallel()
	for _, pageSize := range []int{200, 7, 1} {
		t.Run(fmt.Sprintf("pages of %d", pageSize), func(t *testing.T) {
			t.Parallel()
			_, c := company(t, 23)
			c.SetPageSize(pageSize)
			ctx := context.Background()
			all, err := c.CompanyAccess(ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 23 {
				t.Fatalf("CompanyAccess lists %d users, want 23", len(all))
			}
			for i, ua := range all {
				if i > 0 && all[i-1].User.Email >= ua.User.Email {
					t.Errorf("not sorted by email: %s before %s", all[i-1].User.Email, ua.User.Email)
				}
				want, found, err := c.EffectiveBindings(ctx, "acme", ua.User.UserID)
				if err != nil || !found {
					t.Fatalf("EffectiveBindings(%s): %v %v", ua.User.UserID, found, err)
				}
				if got, want := canonical(ua.Bindings), canonical(want); got != want {
					t.Errorf("%s: CompanyAccess %s, EffectiveBindings %s", ua.User.UserID, got, want)
				}
				if ua.Bindings.Empty() {
					t.Errorf("%s has no access at all", ua.User.UserID)
				}
			}
			projects, err := c.CompanyProjects(ctx, "acme")
			if err != nil || !slices.Equal(projects, []string{"p1"}) {
				t.Fatalf("CompanyProjects = %v, %v; want [p1]", projects, err)
			}
			if none, err := c.CompanyAccess(ctx, "empty"); err != nil || len(none) != 0 {
				t.Fatalf("a company without users: %v %v", none, err)
			}
		})
	}
}

// TestCompanyAccessSurvivesPageShifts: whoever the churn hides from one
// listing (someone leaving and coming back before the page boundary while
// page 2 is read) is in the second listing, whose pages have another size;
// without it they would be taken for gone and their access revoked.
func TestCompanyAccessSurvivesPageShifts(t *testing.T) {
	t.Parallel()
	c, listings, mu := churnServer(t)
	all, err := c.CompanyAccess(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, ua := range all {
		ids = append(ids, ua.User.UserID)
	}
	if len(ids) != 25 || !slices.Contains(ids, "u02") || !slices.Contains(ids, "a00") {
		t.Fatalf("CompanyAccess lists %d users %v, want all 25 (u02, hidden from the first listing, included)", len(ids), ids)
	}
	mu.Lock()
	defer mu.Unlock()
	if listings["7"] != 1 || listings["5"] != 1 || len(listings) != 2 {
		t.Errorf("listings by page size %v, want one of 7 and one of 5", listings)
	}
}

// TestCompanyAccessFailsOnAnUnreadablePage: a page that cannot be read
// fails the whole listing (a partial one would read as people gone).
func TestCompanyAccessFailsOnAnUnreadablePage(t *testing.T) {
	t.Parallel()
	f := consolefake.New()
	f.AddServiceAccount("idsync", "service-account-secret")
	for i := range 5 {
		id := fmt.Sprintf("u%d", i)
		f.AddPlatformUser(id, id+"@example.com")
		f.BindCompany("acme", id, access.Guest)
	}
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path == "/api/companies/acme/identities" && r.URL.Query().Get("page") == "2" {
			http.Error(w, `{"statusCode":502,"message":"bad gateway"}`, http.StatusBadGateway)
			return
		}
		f.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := console.New(console.Config{URL: srv.URL, ClientID: "idsync", ClientSecret: "service-account-secret", Timeout: 5 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.SetPageSize(2)
	if all, err := c.CompanyAccess(context.Background(), "acme"); err == nil {
		t.Fatalf("CompanyAccess = %d users, want an error", len(all))
	}
}
