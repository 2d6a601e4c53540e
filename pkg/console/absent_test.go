package console_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/console"
	"github.com/idsync/idsync/pkg/consolefake"
)

// TestFindUserSurvivesAPageShift: a company user removed while FindUser
// reads page 1 of the listing shifts the next user onto page 1, so page 2
// misses them. FindUser must not take them for absent (that skipped the
// removal of deleted users and the grants of Console developers in the
// fault suite's long form).
func TestFindUserSurvivesAPageShift(t *testing.T) {
	t.Parallel()
	fake := consolefake.New()
	fake.AddServiceAccount("idsync", "service-account-secret")
	for _, u := range []string{"a", "b", "c", "d"} {
		fake.AddPlatformUser(u, u+"@example.com")
		fake.BindCompany("acme", u, "guest")
	}
	var once sync.Once
	var listings int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/companies/acme/users" {
			mu.Lock()
			if r.URL.Query().Get("page") == "1" {
				listings++
			}
			mu.Unlock()
			if r.URL.Query().Get("page") == "2" {
				// Someone removes a between the two pages: c moves to page 1.
				once.Do(func() { fake.RemoveUser("acme", "a") })
			}
		}
		fake.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	c, err := console.New(console.Config{URL: srv.URL, ClientID: "idsync", ClientSecret: "service-account-secret", Timeout: 5 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.SetPageSize(2)
	u, found, err := c.FindUser(context.Background(), "acme", "", "c@example.com")
	if err != nil || !found || u.UserID != "c" {
		t.Fatalf("FindUser(c) = %+v, %v, %v; want c, found", u, found, err)
	}
	if listings != 2 {
		t.Errorf("%d listings, want 2 (the shifted one, then one that finds c)", listings)
	}

	// Someone truly absent costs 1+2 listings of a paged company…
	mu.Lock()
	listings = 0
	mu.Unlock()
	if _, found, err := c.FindUser(context.Background(), "acme", "", "zed@example.com"); err != nil || found {
		t.Fatalf("FindUser(zed) = %v, %v; want not found", found, err)
	}
	if listings != 3 {
		t.Errorf("absent user: %d listings, want 3", listings)
	}
	// …and one listing of a company that fits on one page.
	c.SetPageSize(200)
	mu.Lock()
	listings = 0
	mu.Unlock()
	if _, found, err := c.FindUser(context.Background(), "acme", "", "zed@example.com"); err != nil || found {
		t.Fatalf("FindUser(zed) = %v, %v; want not found", found, err)
	}
	if listings != 1 {
		t.Errorf("absent user, one page: %d listings, want 1", listings)
	}
}
