package gitlabsync

import (
	"context"

	"github.com/idsync/idsync/pkg/syncsvc"
	"github.com/idsync/idsync/services/gitlab-sync/internal/gitlab"
)

// Directory is what gitlab-sync needs from GitLab (internal/gitlab.Client
// implements it). Errors carry an errclass class.
type Directory interface {
	FindUser(ctx context.Context, email string) (gitlab.User, bool, error)
	CreateUser(ctx context.Context, u gitlab.NewUser) (gitlab.User, error)
	BlockUser(ctx context.Context, id int64) error
	UnblockUser(ctx context.Context, id int64) error
	DeactivateUser(ctx context.Context, id int64) error
	DeleteUser(ctx context.Context, id int64) error

	GroupExists(ctx context.Context, path string) (bool, error)
	MemberLevel(ctx context.Context, path string, userID int64) (level int, member bool, err error)
	EffectiveLevel(ctx context.Context, path string, userID int64) (level int, member bool, err error)
	AddMember(ctx context.Context, path string, userID int64, level int) error
	EditMember(ctx context.Context, path string, userID int64, level int) error
	RemoveMember(ctx context.Context, path string, userID int64) error

	// Whole listings, every page, for reconciliation.
	Users(ctx context.Context) ([]gitlab.User, error)
	Members(ctx context.Context, path string) (members []gitlab.Member, found bool, err error)
}

// service holds gitlab-sync's handlers and what they share.
type service struct {
	d   *syncsvc.Deps
	dir Directory // nil when GitLab is not configured (dry-run)
}
