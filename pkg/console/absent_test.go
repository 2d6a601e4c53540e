package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/console"
	"github.com/idsync/idsync/pkg/consolefake"
)

// churnServer serves a Console in which, whenever page 2 of the company's
// users is asked for, someone before the page boundary leaves the company
// just before the answer and is added back just after: the additions and
// removals balance, and whoever sits first on page 2 is missed by every
// listing with the same page size. It counts the listings by page size.
func churnServer(t *testing.T) (*console.Client, map[string]int, *sync.Mutex) {
	t.Helper()
	fake := consolefake.New()
	fake.AddServiceAccount("idsync", "service-account-secret")
	// a00…a04 sort before u00…u19; u02 is seventh, first on page 2 of 7.
	for i := range 5 {
		id := fmt.Sprintf("a%02d", i)
		fake.AddPlatformUser(id, id+"@example.com")
		fake.BindCompany("acme", id, "guest")
	}
	for i := range 20 {
		id := fmt.Sprintf("u%02d", i)
		fake.AddPlatformUser(id, id+"@example.com")
		fake.BindCompany("acme", id, "guest")
	}
	var mu sync.Mutex
	listings := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/companies/acme/users" {
			fake.Handler().ServeHTTP(w, r)
			return
		}
		q := r.URL.Query()
		mu.Lock()
		defer mu.Unlock()
		if q.Get("page") == "1" {
			listings[q.Get("per_page")]++
		}
		if q.Get("page") == "2" {
			fake.RemoveUser("acme", "a00")
			defer fake.BindCompany("acme", "a00", "guest")
		}
		fake.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := console.New(console.Config{URL: srv.URL, ClientID: "idsync", ClientSecret: "service-account-secret", Timeout: 5 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.SetPageSize(7)
	return c, listings, &mu
}

// TestFindUserSurvivesPageShifts: a user the page shifts hide from one
// listing is found by the next, whose pages have another size — before,
// FindUser took them for absent, which skipped the removal of deleted users
// and the grants of Console developers in the fault suite's long form.
func TestFindUserSurvivesPageShifts(t *testing.T) {
	t.Parallel()
	c, listings, mu := churnServer(t)
	u, found, err := c.FindUser(context.Background(), "acme", "", "u02@example.com")
	if err != nil || !found || u.UserID != "u02" {
		t.Fatalf("FindUser(u02) = %+v, %v, %v; want u02, found", u, found, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if listings["7"] != 1 || listings["5"] != 1 {
		t.Errorf("listings by page size %v, want one of 7 (u02 hidden) and one of 5 (u02 found)", listings)
	}
}

// TestFindUserAbsent: someone absent from a company of several pages costs
// three listings, each with its own page size; from a company that fits on
// one page, one.
func TestFindUserAbsent(t *testing.T) {
	t.Parallel()
	c, listings, mu := churnServer(t)
	if _, found, err := c.FindUser(context.Background(), "acme", "", "zed@example.com"); err != nil || found {
		t.Fatalf("FindUser(zed) = %v, %v; want not found", found, err)
	}
	mu.Lock()
	if len(listings) != 3 {
		t.Errorf("listings by page size %v, want three sizes", listings)
	}
	clear(listings)
	mu.Unlock()
	c.SetPageSize(200)
	if _, found, err := c.FindUser(context.Background(), "acme", "", "zed@example.com"); err != nil || found {
		t.Fatalf("FindUser(zed) = %v, %v; want not found", found, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if listings["200"] != 1 || len(listings) != 1 {
		t.Errorf("one page: listings %v, want one of 200", listings)
	}
}
