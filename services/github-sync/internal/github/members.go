package github

import (
	"context"

	gh "github.com/google/go-github/v92/github"

	"github.com/idsync/idsync/pkg/errclass"
)

// found turns a NotFound error into found=false.
func found(err error) (bool, error) {
	if err == nil {
		return true, nil
	}
	if errclass.Of(err) == errclass.NotFound {
		return false, nil
	}
	return false, err
}

func membership(m *gh.Membership) Membership {
	return Membership{Role: m.GetRole(), State: m.GetState()}
}

// OrgExists reports whether the organization exists (and is visible).
func (c *Client) OrgExists(ctx context.Context, org string) (bool, error) {
	_, resp, err := c.gh.Organizations.Get(ctx, org)
	return found(c.classify("get organization", resp, err))
}

// OrgMembership returns login's membership of org; ok is false for a
// non-member (GitHub answers 404 both for that and for an unknown org).
func (c *Client) OrgMembership(ctx context.Context, org, login string) (Membership, bool, error) {
	m, resp, err := c.gh.Organizations.GetOrgMembership(ctx, login, org)
	ok, err := found(c.classify("get organization membership", resp, err))
	if !ok {
		return Membership{}, false, err
	}
	return membership(m), true, nil
}

// SetOrgMembership makes login a member of org with role (member, admin);
// a non-member is invited and stays pending until they accept.
func (c *Client) SetOrgMembership(ctx context.Context, org, login, role string) error {
	_, resp, err := c.gh.Organizations.EditOrgMembership(ctx, login, org, &gh.Membership{Role: new(role)})
	return c.classify("set organization membership", resp, err)
}

// RemoveOrgMembership removes login from org with their team memberships,
// or cancels their pending invitation. A non-member is NotFound.
func (c *Client) RemoveOrgMembership(ctx context.Context, org, login string) error {
	resp, err := c.gh.Organizations.RemoveOrgMembership(ctx, login, org)
	return c.classify("remove organization membership", resp, err)
}

// Team returns the id of the team slug of org; ok is false when there is none.
func (c *Client) Team(ctx context.Context, org, slug string) (int64, bool, error) {
	t, resp, err := c.gh.Teams.GetTeamBySlug(ctx, org, slug)
	ok, err := found(c.classify("get team", resp, err))
	if !ok {
		return 0, false, err
	}
	return t.GetID(), true, nil
}

// TeamMembership returns login's membership of the team; ok is false for a non-member.
func (c *Client) TeamMembership(ctx context.Context, org, slug, login string) (Membership, bool, error) {
	m, resp, err := c.gh.Teams.GetTeamMembershipBySlug(ctx, org, slug, login)
	ok, err := found(c.classify("get team membership", resp, err))
	if !ok {
		return Membership{}, false, err
	}
	return membership(m), true, nil
}

// SetTeamMembership adds login to the team with role (member, maintainer)
// or changes the role. Teams synchronised from an IdP refuse (Permanent).
func (c *Client) SetTeamMembership(ctx context.Context, org, slug, login, role string) error {
	_, resp, err := c.gh.Teams.AddTeamMembershipBySlug(ctx, org, slug, login, &gh.TeamAddTeamMembershipOptions{Role: role})
	return c.classify("set team membership", resp, err)
}

// RemoveTeamMembership removes login from the team; a non-member is NotFound.
func (c *Client) RemoveTeamMembership(ctx context.Context, org, slug, login string) error {
	resp, err := c.gh.Teams.RemoveTeamMembershipBySlug(ctx, org, slug, login)
	return c.classify("remove team membership", resp, err)
}
