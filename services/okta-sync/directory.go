package oktasync

import (
	"context"
	"fmt"

	"github.com/idsync/idsync/pkg/ledger"
	"github.com/idsync/idsync/pkg/plan"
	"github.com/idsync/idsync/pkg/rules"
	"github.com/idsync/idsync/pkg/syncsvc"
)

// Directory is what okta-sync needs from Okta (pkg/okta implements it
// over the Okta SDK).
type Directory interface {
	UserID(ctx context.Context, login string) (string, bool, error)
	GroupID(ctx context.Context, name string) (string, bool, error)
	CreateGroup(ctx context.Context, name, description string) (string, error)
	IsMember(ctx context.Context, groupID, userID string) (bool, error)
	AddMember(ctx context.Context, groupID, userID string) error
	RemoveMember(ctx context.Context, groupID, userID string) error
}

// memberRole is the one "role" of an Okta group: membership.
const memberRole = "member"

// provider tells the planner which Okta groups a rule names.
var provider = plan.Provider{
	Name: Provider,
	Targets: func(r *rules.Rule, c rules.Context) []plan.Target {
		if r.Actions.Okta == nil {
			return nil
		}
		var out []plan.Target
		for _, g := range r.Actions.Okta.Groups {
			name := c.Expand(g)
			out = append(out, plan.Target{Key: plan.Key("group", name), Kind: "group", Name: name, Role: memberRole, RuleID: r.ID, Context: c})
		}
		return out
	},
	Rank: func(role string) int {
		if role == memberRole {
			return 1
		}
		return 0
	},
}

// memberships implements plan.Memberships over the Directory.
type memberships struct{ dir Directory }

func (m memberships) Current(ctx context.Context, t plan.Target, user string) (string, bool, error) {
	gid, found, err := m.dir.GroupID(ctx, t.Name)
	if err != nil || !found {
		return "", false, err
	}
	in, err := m.dir.IsMember(ctx, gid, user)
	if err != nil || !in {
		return "", true, err
	}
	return memberRole, true, nil
}

func (m memberships) Grant(ctx context.Context, t plan.Target, user, _, _ string) error {
	gid, found, err := m.dir.GroupID(ctx, t.Name)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("okta group %s vanished", t.Name)
	}
	return m.dir.AddMember(ctx, gid, user)
}

func (m memberships) Revoke(ctx context.Context, g ledger.Grant, user string) error {
	_, name := plan.SplitKey(g.Target)
	gid, found, err := m.dir.GroupID(ctx, name)
	if err != nil || !found {
		return err
	}
	return m.dir.RemoveMember(ctx, gid, user)
}

func (m memberships) Action(_ string, grant bool) string {
	if grant {
		return "group_member.add"
	}
	return "group_member.remove"
}

// service holds okta-sync's handlers.
type service struct {
	d       *syncsvc.Deps
	dir     Directory // nil without Okta credentials (dry-run)
	planner *plan.Planner
	applier *plan.Applier
}
