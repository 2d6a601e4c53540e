package github

import (
	"context"
	"sync/atomic"

	"github.com/idsync/idsync/pkg/callcount"
	"github.com/idsync/idsync/pkg/events"
)

// WithCallCounter returns a context under which every request the client sends
// to GitHub (each page of a listing, each token minted) adds one to n, so
// that a reconciliation can say what its scan cost against the rate limit
// while events are handled on the same client. Requests the pacer holds
// back locally are not sent and not counted.
func WithCallCounter(ctx context.Context, n *atomic.Int64) context.Context {
	return callcount.With(ctx, events.ProviderGitHub, n)
}
