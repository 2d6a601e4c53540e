package okta_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/okta"
)

// TestUsersListsEveryPageAndStatus: every user of the org, across pages
// of the plain listing and of the DEPROVISIONED one, each once with its
// status.
func TestUsersListsEveryPageAndStatus(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		pageMax int
		users   int
	}{
		{"one page", 200, 5},
		{"several pages", 3, 11},
		{"pages of one", 1, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, c := setup(t)
			f.SetPageMax(tc.pageMax)
			want := map[string]okta.Person{}
			for i := range tc.users {
				login := fmt.Sprintf("u%02d@example.com", i)
				id := f.AddUser(login, "U", fmt.Sprint(i))
				status := okta.StatusActive
				switch i % 4 {
				case 1:
					status = okta.StatusDeprovisioned
				case 2:
					status = "SUSPENDED"
				}
				f.SetStatus(id, status)
				want[id] = okta.Person{ID: id, Login: login, Email: login, Status: status}
			}
			gone := f.AddUser("gone@example.com", "Gone", "User")
			f.DeleteUser(gone)
			got, err := c.Users(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("Users = %d people, want %d: %+v", len(got), len(want), got)
			}
			for _, p := range got {
				if want[p.ID] != p {
					t.Errorf("got %+v, want %+v", p, want[p.ID])
				}
			}
		})
	}
}

// TestGroupMembersListsEveryPage: a group's members across pages; an
// unknown group is NotFound; an empty group has no members.
func TestGroupMembersListsEveryPage(t *testing.T) {
	t.Parallel()
	f, c := setup(t)
	ctx := context.Background()
	f.SetPageMax(2)
	gid := f.AddGroup("console-acme")
	empty := f.AddGroup("empty")
	var want []string
	for i := range 7 {
		login := fmt.Sprintf("m%d@example.com", i)
		id := f.AddUser(login, "M", fmt.Sprint(i))
		if i != 3 {
			f.AddMember(gid, id)
			want = append(want, login)
		}
	}
	members, err := c.GroupMembers(ctx, gid)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range members {
		if m.ID == "" || m.Status != okta.StatusActive {
			t.Errorf("member %+v: want an id and ACTIVE", m)
		}
		got = append(got, m.Login)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("GroupMembers = %v, want %v", got, want)
	}
	if m, err := c.GroupMembers(ctx, empty); err != nil || len(m) != 0 {
		t.Fatalf("empty group: %v %v", m, err)
	}
	if _, err := c.GroupMembers(ctx, "00gmissing"); errclass.Of(err) != errclass.NotFound {
		t.Fatalf("unknown group: %v (class %s)", err, errclass.Of(err))
	}
}

// TestListingsArePacedAndClassified: a listing that meets a 5xx or a spent
// quota midway fails with the class the consumer retries on, and the quota
// holds back the next page instead of sending it into a 429.
func TestListingsArePacedAndClassified(t *testing.T) {
	t.Parallel()
	f, c := setup(t)
	ctx := context.Background()
	f.SetPageMax(2)
	for i := range 6 {
		f.AddUser(fmt.Sprintf("p%d@example.com", i), "P", fmt.Sprint(i))
	}
	f.Faults().FailNext(1, 503, "GET", "/api/v1/users", 0)
	if _, err := c.Users(ctx); errclass.Of(err) != errclass.Retryable {
		t.Fatalf("503: %v (class %s)", err, errclass.Of(err))
	}
	f.Faults().RateLimit(2, time.Minute)
	_, err := c.Users(ctx)
	if errclass.Of(err) != errclass.RateLimited || errclass.DelayOf(err) <= 0 {
		t.Fatalf("quota of 2 for a listing of 4 pages: %v (class %s)", err, errclass.Of(err))
	}
}

// TestListingsWaitForQuotaWhenAsked: under WaitForQuota a listing larger
// than the quota waits for each reset and goes on from its page, to the
// end, each page asked once.
func TestListingsWaitForQuotaWhenAsked(t *testing.T) {
	t.Parallel()
	f, c := setup(t)
	f.SetPageMax(2)
	for i := range 7 {
		f.AddUser(fmt.Sprintf("w%d@example.com", i), "W", fmt.Sprint(i))
	}
	f.Faults().RateLimit(2, time.Second)
	ctx := okta.WaitForQuota(context.Background(), 5*time.Second)
	got, err := c.Users(ctx)
	if err != nil || len(got) != 7 {
		t.Fatalf("Users = %d people, %v; want all 7", len(got), err)
	}
	// 4 pages of the plain listing, 1 of the DEPROVISIONED one.
	if n := f.Faults().Count("GET", "/api/v1/users"); n != 5 {
		t.Errorf("%d requests, want 5 (one per page)", n)
	}
}
