package gitlab

import (
	"context"
	"errors"

	gl "gitlab.com/gitlab-org/api/client-go/v2"
)

// GroupExists reports whether a group (by full path) exists.
func (c *Client) GroupExists(ctx context.Context, path string) (bool, error) {
	_, resp, err := c.gl.Groups.GetGroup(path, nil, gl.WithContext(ctx))
	err = classify("get group", resp, err)
	if notFound(err) {
		return false, nil
	}
	return err == nil, err
}

// MemberLevel returns a user's DIRECT access level in a group; member is
// false when they are not a direct member (or the group does not exist).
func (c *Client) MemberLevel(ctx context.Context, path string, userID int64) (level int, member bool, err error) {
	m, resp, err := c.gl.GroupMembers.GetGroupMember(path, userID, gl.WithContext(ctx))
	return memberLevel("get member", m, resp, err)
}

// EffectiveLevel returns a user's access level in a group counting what
// they inherit from parent groups (the highest wins).
func (c *Client) EffectiveLevel(ctx context.Context, path string, userID int64) (level int, member bool, err error) {
	m, resp, err := c.gl.GroupMembers.GetInheritedGroupMember(path, userID, gl.WithContext(ctx))
	return memberLevel("get inherited member", m, resp, err)
}

func memberLevel(op string, m *gl.GroupMember, resp *gl.Response, err error) (int, bool, error) {
	err = classify(op, resp, err)
	switch {
	case notFound(err):
		return 0, false, nil
	case err != nil:
		return 0, false, err
	}
	return int(m.AccessLevel), true, nil
}

// AddMember makes a user a direct member of a group with an access level.
// When GitLab answers 409 (already a direct member), the membership is
// read again and raised if it is below level; a higher one is kept.
func (c *Client) AddMember(ctx context.Context, path string, userID int64, level int) error {
	_, resp, err := c.gl.GroupMembers.AddGroupMember(path, &gl.AddGroupMemberOptions{
		UserID: gl.Ptr(userID), AccessLevel: gl.Ptr(gl.AccessLevelValue(level)),
	}, gl.WithContext(ctx))
	if err == nil {
		return nil
	}
	if resp == nil || resp.StatusCode != 409 {
		return classify("add member", resp, err)
	}
	cur, member, err := c.MemberLevel(ctx, path, userID)
	switch {
	case err != nil:
		return err
	case !member:
		return classify("add member", resp, errors.Join(ErrMemberExists, errors.New("but not a direct member")))
	case cur < level:
		return c.EditMember(ctx, path, userID, level)
	}
	return nil
}

// EditMember changes a direct member's access level.
func (c *Client) EditMember(ctx context.Context, path string, userID int64, level int) error {
	_, resp, err := c.gl.GroupMembers.EditGroupMember(path, userID, &gl.EditGroupMemberOptions{
		AccessLevel: gl.Ptr(gl.AccessLevelValue(level)),
	}, gl.WithContext(ctx))
	return classify("edit member", resp, err)
}

// RemoveMember removes a user's direct membership of a group, and only
// that one: memberships of subgroups and projects (which GitLab removes by
// default) may have been given by hand and are kept.
func (c *Client) RemoveMember(ctx context.Context, path string, userID int64) error {
	resp, err := c.gl.GroupMembers.RemoveGroupMember(path, userID, &gl.RemoveGroupMemberOptions{
		SkipSubresources: gl.Ptr(true),
	}, gl.WithContext(ctx))
	return classify("remove member", resp, err)
}
