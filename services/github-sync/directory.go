package githubsync

import (
	"context"

	"github.com/idsync/idsync/pkg/identity"
	"github.com/idsync/idsync/pkg/plan"
	"github.com/idsync/idsync/pkg/syncsvc"
	ghapi "github.com/idsync/idsync/services/github-sync/internal/github"
)

// GitHub is what github-sync needs from GitHub (internal/github.Client
// implements it). Errors carry an errclass class; "not found" answers are
// ok=false rather than errors where the method says so.
type GitHub interface {
	OrgExists(ctx context.Context, org string) (bool, error)
	OrgMembership(ctx context.Context, org, login string) (ghapi.Membership, bool, error)
	SetOrgMembership(ctx context.Context, org, login, role string) error
	RemoveOrgMembership(ctx context.Context, org, login string) error
	Team(ctx context.Context, org, slug string) (int64, bool, error)
	TeamMembership(ctx context.Context, org, slug, login string) (ghapi.Membership, bool, error)
	SetTeamMembership(ctx context.Context, org, slug, login, role string) error
	RemoveTeamMembership(ctx context.Context, org, slug, login string) error
	Invitations(ctx context.Context, org, email string) ([]ghapi.Invitation, error)
	Invite(ctx context.Context, org, email, role string, teamIDs []int64) (ghapi.Invitation, error)
	CancelInvitation(ctx context.Context, org string, id int64) error
	// The listings reconciliation compares with; each reads every page.
	OrgMembers(ctx context.Context, org, role string) ([]string, error)
	TeamMembers(ctx context.Context, org, slug, role string) ([]string, error)
	OrgInvitations(ctx context.Context, org string) ([]ghapi.Invitation, error)
}

// service holds github-sync's handlers and what they share.
type service struct {
	d    *syncsvc.Deps
	gh   GitHub // nil when no credentials are configured
	ids  *identity.Map
	prov plan.Provider
}
