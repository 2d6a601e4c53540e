package gitlab

import (
	"context"

	gl "gitlab.com/gitlab-org/api/client-go/v2"
)

// Member is a direct member of a group.
type Member struct {
	UserID   int64
	Username string
	// State is the user's (active, blocked…).
	State string
	Level int
}

// Users lists every user of the instance, every page (an administrator's
// token sees every email). Internal users (ghost, support bot) are left
// out. Oldest first: a user created while the listing runs lands on its
// last page instead of pushing one already read onto the next.
func (c *Client) Users(ctx context.Context) ([]User, error) {
	opt := &gl.ListUsersOptions{
		ListOptions:     gl.ListOptions{PerPage: perPage, Page: 1},
		ExcludeInternal: gl.Ptr(true), OrderBy: gl.Ptr("id"), Sort: gl.Ptr("asc"),
	}
	var out []User
	for {
		users, resp, err := c.gl.Users.ListUsers(opt, gl.WithContext(ctx))
		if err != nil {
			return nil, classify("list users", resp, err)
		}
		for _, u := range users {
			out = append(out, userOf(u))
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opt.Page = resp.NextPage
	}
}

// Members lists the DIRECT members of a group (by full path), every page;
// found is false when the group does not exist. Members inherited from
// parent groups are not listed: they are managed where they are direct.
func (c *Client) Members(ctx context.Context, path string) (members []Member, found bool, err error) {
	opt := &gl.ListGroupMembersOptions{ListOptions: gl.ListOptions{PerPage: perPage, Page: 1}}
	for {
		ms, resp, err := c.gl.Groups.ListGroupMembers(path, opt, gl.WithContext(ctx))
		if err != nil {
			err = classify("list members", resp, err)
			if notFound(err) && opt.Page == 1 {
				return nil, false, nil
			}
			return nil, false, err
		}
		for _, m := range ms {
			members = append(members, Member{UserID: m.ID, Username: m.Username, State: m.State, Level: int(m.AccessLevel)})
		}
		if resp.NextPage == 0 {
			return members, true, nil
		}
		opt.Page = resp.NextPage
	}
}
