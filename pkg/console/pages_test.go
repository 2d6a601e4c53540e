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
	"github.com/idsync/idsync/pkg/syncsvc/synctest"
)

// pagedCompany serves a company of n users in pages of 5 through handle,
// which sees every request for the users listing before the fake answers it
// (or answers it itself, returning true).
func pagedCompany(t *testing.T, n int, handle func(w http.ResponseWriter, page string) bool) *console.Client {
	t.Helper()
	fake := consolefake.New()
	fake.AddServiceAccount("idsync", "service-account-secret")
	for i := range n {
		id := fmt.Sprintf("u%03d", i)
		fake.AddPlatformUser(id, id+"@example.com")
		fake.BindCompany("acme", id, "guest")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/companies/acme/users" && handle(w, r.URL.Query().Get("page")) {
			return
		}
		fake.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := console.New(console.Config{URL: srv.URL, ClientID: "idsync", ClientSecret: "service-account-secret", Timeout: 5 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.SetPageSize(5)
	return c
}

// TestListingReadsPagesConcurrentlyInOrder: once page 1 has told the number
// of pages, the others are asked for together, at most 8 at a time, and the
// listing keeps the Console's order. The handler holds every later page
// until 8 are in flight, so a listing that read them one by one would never
// finish.
func TestListingReadsPagesConcurrentlyInOrder(t *testing.T) {
	t.Parallel()
	var (
		mu             sync.Mutex
		inFlight, most int
		release        = make(chan struct{})
		releaseOnce    sync.Once
	)
	c := pagedCompany(t, 63, func(_ http.ResponseWriter, page string) bool {
		if page == "1" {
			return false
		}
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		mu.Unlock()
		<-release
		mu.Lock()
		inFlight--
		mu.Unlock()
		return false
	})
	// Registered after the server's cleanup, so it runs first: a listing
	// that never reaches 8 pages in flight fails the test instead of
	// holding the server's Close.
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) })
	type answer struct {
		users []console.User
		err   error
	}
	done := make(chan answer, 1)
	go func() {
		users, err := c.Users(context.Background(), "acme")
		done <- answer{users, err}
	}()
	synctest.Eventually(t, "8 pages in flight at once", 10*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return inFlight == 8
	})
	releaseOnce.Do(func() { close(release) })
	got := <-done
	if got.err != nil {
		t.Fatal(got.err)
	}
	if len(got.users) != 63 {
		t.Fatalf("%d users, want 63", len(got.users))
	}
	for i, u := range got.users {
		if want := fmt.Sprintf("u%03d", i); u.UserID != want {
			t.Fatalf("user %d is %s, want %s: the pages came back out of order", i, u.UserID, want)
		}
	}
	if most > 8 {
		t.Errorf("%d pages in flight at once, want at most 8", most)
	}
}

// TestListingFailsWhenAPageFails: a page the Console refuses fails the whole
// listing; no partial listing is taken for the company.
func TestListingFailsWhenAPageFails(t *testing.T) {
	t.Parallel()
	c := pagedCompany(t, 63, func(w http.ResponseWriter, page string) bool {
		if page != "7" {
			return false
		}
		http.Error(w, `{"statusCode":403,"error":"Forbidden","message":"no"}`, http.StatusForbidden)
		return true
	})
	users, err := c.Users(context.Background(), "acme")
	if err == nil {
		t.Fatalf("listing succeeded with page 7 refused: %d users", len(users))
	}
}
