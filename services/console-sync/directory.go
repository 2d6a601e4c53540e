package consolesync

import (
	"context"

	"github.com/idsync/idsync/pkg/console"
	"github.com/idsync/idsync/pkg/syncsvc"
)

// Directory is what console-sync needs from the Console API
// (pkg/console.Client implements it).
type Directory interface {
	FindUser(ctx context.Context, companyID, userID, email string) (console.User, bool, error)
	AddUser(ctx context.Context, companyID, email, role string) error
	RemoveUser(ctx context.Context, companyID, userID string) error
}

// service holds console-sync's handlers and what they share.
type service struct {
	d   *syncsvc.Deps
	dir Directory // nil when the Console API is not configured
}
