package gitlab_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/idsync/idsync/pkg/gitlabfake"
	"github.com/idsync/idsync/services/gitlab-sync/internal/gitlab"
)

// TestListingsReadEveryPage: the user and member listings read every page
// (three of 100 here), a group's listing holds its direct members only,
// and the calls made under a counter are counted.
func TestListingsReadEveryPage(t *testing.T) {
	t.Parallel()
	s := start(t)
	owner := s.fake.AddUser(gitlabfake.User{Email: "owner@example.com"})
	s.fake.SetMember("acme", owner.ID, gitlabfake.Owner) // inherited in acme/p1
	for i := range 250 {
		u := s.fake.AddUser(gitlabfake.User{Email: fmt.Sprintf("u%03d@example.com", i), Bot: i == 249})
		s.fake.SetMember("acme/p1", u.ID, gitlabfake.Developer+10*(i%2))
	}
	var calls atomic.Int64
	ctx := gitlab.WithCallCounter(context.Background(), &calls)

	users, err := s.c.Users(ctx)
	if err != nil || len(users) != 251 {
		t.Fatalf("Users: %d, %v", len(users), err)
	}
	if users[0].ID != owner.ID || users[0].Email != "owner@example.com" || users[250].Email != "u249@example.com" || !users[250].Bot || users[1].Bot {
		t.Errorf("users in the wrong order or without their bot flag: first %+v, last %+v", users[0], users[250])
	}
	members, found, err := s.c.Members(ctx, "acme/p1")
	if err != nil || !found || len(members) != 250 {
		t.Fatalf("Members: %d %v %v", len(members), found, err)
	}
	levels := map[int]int{}
	for _, m := range members {
		if m.UserID == owner.ID {
			t.Errorf("an inherited member is listed: %+v", m)
		}
		levels[m.Level]++
	}
	if levels[gitlabfake.Developer] != 125 || levels[gitlabfake.Maintainer] != 125 || members[0].Username != "u000" || members[0].State != gitlab.StateActive {
		t.Errorf("levels %v, first %+v", levels, members[0])
	}
	if _, found, err := s.c.Members(ctx, "acme/none"); found || err != nil {
		t.Errorf("a missing group: found %v, %v", found, err)
	}
	if n := calls.Load(); n != 3+3+1 {
		t.Errorf("%d calls counted, want 7 (three pages each, one 404)", n)
	}
	if _, err := s.c.Users(context.Background()); err != nil || calls.Load() != 7 {
		t.Errorf("calls outside the counter's context were counted: %d (%v)", calls.Load(), err)
	}
}
