package github

import (
	"context"
	"strconv"
	"strings"

	gh "github.com/google/go-github/v92/github"
)

// Invitations returns the organization's pending invitations sent to
// email (case-insensitive), with their teams. It reads every page.
func (c *Client) Invitations(ctx context.Context, org, email string) ([]Invitation, error) {
	var out []Invitation
	opts := &gh.ListOptions{PerPage: c.page}
	for {
		page, resp, err := c.gh.Organizations.ListPendingOrgInvitations(ctx, org, opts)
		if err := c.classify("list invitations", resp, err); err != nil {
			return nil, err
		}
		for _, inv := range page {
			if email == "" || !strings.EqualFold(inv.GetEmail(), email) {
				continue
			}
			teams, err := c.invitationTeams(ctx, org, inv.GetID())
			if err != nil {
				return nil, err
			}
			out = append(out, Invitation{ID: inv.GetID(), Email: inv.GetEmail(), Login: inv.GetLogin(), Role: inv.GetRole(), TeamIDs: teams})
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

func (c *Client) invitationTeams(ctx context.Context, org string, id int64) ([]int64, error) {
	var ids []int64
	opts := &gh.ListOptions{PerPage: c.page}
	for {
		teams, resp, err := c.gh.Organizations.ListOrgInvitationTeams(ctx, org, strconv.FormatInt(id, 10), opts)
		if err := c.classify("list invitation teams", resp, err); err != nil {
			return nil, err
		}
		for _, t := range teams {
			ids = append(ids, t.GetID())
		}
		if resp.NextPage == 0 {
			return ids, nil
		}
		opts.Page = resp.NextPage
	}
}

// Invite invites email to the organization with role (direct_member,
// admin) and the teams.
func (c *Client) Invite(ctx context.Context, org, email, role string, teamIDs []int64) (Invitation, error) {
	inv, resp, err := c.gh.Organizations.CreateOrgInvitation(ctx, org, &gh.CreateOrgInvitationOptions{
		Email: new(email), Role: new(role), TeamID: teamIDs,
	})
	if err := c.classify("create invitation", resp, err); err != nil {
		return Invitation{}, err
	}
	return Invitation{ID: inv.GetID(), Email: inv.GetEmail(), Login: inv.GetLogin(), Role: inv.GetRole(), TeamIDs: teamIDs}, nil
}

// CancelInvitation cancels a pending invitation; an unknown one is NotFound.
func (c *Client) CancelInvitation(ctx context.Context, org string, id int64) error {
	resp, err := c.gh.Organizations.CancelInvite(ctx, org, id)
	return c.classify("cancel invitation", resp, err)
}
