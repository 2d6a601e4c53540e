package gitlab

import (
	"context"
	"sync/atomic"

	"github.com/idsync/idsync/pkg/callcount"
	"github.com/idsync/idsync/pkg/events"
)

// WithCallCounter returns a context under which every GitLab request is
// counted in n: a reconciliation reports what its own scan and apply cost,
// apart from the events the consumer handles meanwhile on the same client.
func WithCallCounter(ctx context.Context, n *atomic.Int64) context.Context {
	return callcount.With(ctx, events.ProviderGitLab, n)
}
