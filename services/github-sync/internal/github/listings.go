package github

import (
	"context"
	"strconv"

	gh "github.com/google/go-github/v92/github"
)

// Listing roles (the ?role= filters of the member listings).
const (
	RoleAdmin      = "admin"
	RoleMember     = "member"
	RoleMaintainer = "maintainer"
)

// OrgMembers returns the logins of the organization's active members
// with role (admin or member), reading every page: a listing cut at the
// first page would make every member past it look missing. Pending
// members are not listed (they are invitations). An unknown organization
// is NotFound.
func (c *Client) OrgMembers(ctx context.Context, org, role string) ([]string, error) {
	var out []string
	opts := &gh.ListMembersOptions{Role: role, ListOptions: gh.ListOptions{PerPage: c.page}}
	for {
		page, resp, err := c.gh.Organizations.ListMembers(ctx, org, opts)
		if err := c.classify("list organization members", resp, err); err != nil {
			return nil, err
		}
		for _, u := range page {
			out = append(out, u.GetLogin())
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// TeamMembers returns the logins of the team's active members with role
// (member or maintainer), reading every page. An unknown team is NotFound.
func (c *Client) TeamMembers(ctx context.Context, org, slug, role string) ([]string, error) {
	var out []string
	opts := &gh.TeamListTeamMembersOptions{Role: role, ListOptions: gh.ListOptions{PerPage: c.page}}
	for {
		page, resp, err := c.gh.Teams.ListTeamMembersBySlug(ctx, org, slug, opts)
		if err := c.classify("list team members", resp, err); err != nil {
			return nil, err
		}
		for _, u := range page {
			out = append(out, u.GetLogin())
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// OrgInvitations returns every pending invitation of the organization
// (by email or by login), reading every page, with the ids and slugs of
// their teams. The teams of an invitation are read only when it says it
// has some (team_count), so a scan costs one call per page plus one per
// invitation that carries teams.
func (c *Client) OrgInvitations(ctx context.Context, org string) ([]Invitation, error) {
	var out []Invitation
	opts := &gh.ListOptions{PerPage: c.page}
	for {
		page, resp, err := c.gh.Organizations.ListPendingOrgInvitations(ctx, org, opts)
		if err := c.classify("list invitations", resp, err); err != nil {
			return nil, err
		}
		for _, inv := range page {
			it := Invitation{ID: inv.GetID(), Email: inv.GetEmail(), Login: inv.GetLogin(), Role: inv.GetRole()}
			if inv.GetTeamCount() > 0 {
				if it.TeamIDs, it.TeamSlugs, err = c.invitationTeamRefs(ctx, org, inv.GetID()); err != nil {
					return nil, err
				}
			}
			out = append(out, it)
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

func (c *Client) invitationTeamRefs(ctx context.Context, org string, id int64) (ids []int64, slugs []string, err error) {
	opts := &gh.ListOptions{PerPage: c.page}
	for {
		teams, resp, err := c.gh.Organizations.ListOrgInvitationTeams(ctx, org, strconv.FormatInt(id, 10), opts)
		if err := c.classify("list invitation teams", resp, err); err != nil {
			return nil, nil, err
		}
		for _, t := range teams {
			ids, slugs = append(ids, t.GetID()), append(slugs, t.GetSlug())
		}
		if resp.NextPage == 0 {
			return ids, slugs, nil
		}
		opts.Page = resp.NextPage
	}
}
