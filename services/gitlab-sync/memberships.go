package gitlabsync

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/ledger"
	"github.com/idsync/idsync/pkg/plan"
	"github.com/idsync/idsync/pkg/rules"
	"github.com/idsync/idsync/services/gitlab-sync/internal/gitlab"
)

// Outcome actions (pkg/events Actions vocabulary).
const (
	actionMemberAdd    = "group_member.add"
	actionMemberUpdate = "group_member.update"
	actionMemberRemove = "group_member.remove"
	kindGroup          = "group"
)

// provider is GitLab for the planner: the groups a rule names, expanded in
// each context, with roles ranked by access level.
var provider = plan.Provider{Name: Provider, Targets: targets, Rank: gitlab.Rank}

func targets(r *rules.Rule, c rules.Context) []plan.Target {
	if r.Actions.GitLab == nil {
		return nil
	}
	var out []plan.Target
	for _, g := range r.Actions.GitLab.Groups {
		path := strings.Trim(c.Expand(g.Path), "/")
		if path == "" || strings.Contains(path, "//") {
			continue // a variable the context does not set
		}
		out = append(out, plan.Target{Key: plan.Key(kindGroup, path), Kind: kindGroup, Name: path, Role: g.Role, RuleID: r.ID, Context: c})
	}
	return out
}

// memberships implements plan.Memberships over GitLab group membership.
// Users are keyed by their numeric GitLab id.
type memberships struct {
	dir Directory // nil in dry-run without credentials: state unknown
}

// Current returns the user's direct role in the group. A user who is not a
// direct member but inherits at least the rule's role from a parent group
// already holds it (and GitLab would refuse a lower direct membership):
// the inherited role is returned.
func (m memberships) Current(ctx context.Context, t plan.Target, user string) (string, bool, error) {
	if m.dir == nil {
		return "", true, nil
	}
	uid, err := userID(user)
	if err != nil {
		return "", false, err
	}
	level, member, err := m.dir.MemberLevel(ctx, t.Name, uid)
	switch {
	case err != nil:
		return "", false, err
	case member:
		return gitlab.Role(level), true, nil
	}
	level, member, err = m.dir.EffectiveLevel(ctx, t.Name, uid)
	switch {
	case err != nil:
		return "", false, err
	case member && level >= gitlab.Rank(t.Role):
		return gitlab.Role(level), true, nil
	case member:
		return "", true, nil
	}
	exists, err := m.dir.GroupExists(ctx, t.Name)
	return "", exists, err
}

// Grant adds the user with role, or raises a direct member to it.
func (m memberships) Grant(ctx context.Context, t plan.Target, user, role, current string) error {
	uid, err := userID(user)
	if err != nil {
		return err
	}
	level, ok := gitlab.Level(role)
	if !ok {
		return errclass.AsPermanent(fmt.Errorf("gitlab-sync: rule %s: %q is not a GitLab role", t.RuleID, role))
	}
	if current != "" {
		err := m.dir.EditMember(ctx, t.Name, uid, level)
		if errclass.Of(err) != errclass.NotFound {
			return err
		}
		// No longer a direct member: add below.
	}
	return m.dir.AddMember(ctx, t.Name, uid, level)
}

// Revoke removes the direct membership the grant names; one already gone
// is fine.
func (m memberships) Revoke(ctx context.Context, g ledger.Grant, user string) error {
	uid, err := userID(user)
	if err != nil {
		return err
	}
	err = m.dir.RemoveMember(ctx, groupPath(g.Target), uid)
	if errclass.Of(err) == errclass.NotFound {
		return nil
	}
	return err
}

// Action names group_member.add for grants and group_member.remove for
// revokes; UpdateAction names a role change.
func (memberships) Action(_ string, grant bool) string {
	if grant {
		return actionMemberAdd
	}
	return actionMemberRemove
}

// UpdateAction implements plan.Updater: a role raised or lowered in place.
func (memberships) UpdateAction(string) string { return actionMemberUpdate }

func groupPath(key string) string { return strings.TrimPrefix(key, kindGroup+":") }

func userID(user string) (int64, error) {
	id, err := strconv.ParseInt(user, 10, 64)
	if err != nil {
		return 0, errclass.AsPermanent(fmt.Errorf("gitlab-sync: %q is not a GitLab user id", user))
	}
	return id, nil
}
