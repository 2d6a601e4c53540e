package okta

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/idsync/idsync/pkg/callcount"
	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/events"
)

// WithCallCounter returns a context under which every request the client
// sends to the Okta adds one to n (each page of a listing included), so that
// a reconciliation can say what its scan and apply cost while events are
// handled on the same client. Calls the pacer holds back are not sent and
// not counted.
func WithCallCounter(ctx context.Context, n *atomic.Int64) context.Context {
	return callcount.With(ctx, events.ProviderOkta, n)
}

type quotaKey struct{}

// WaitForQuota returns a context under which a listing that meets a spent
// rate-limit quota (the pacer's hold, or a 429) waits for the reset, up to
// max each time, and goes on from the page it stopped at. A consumer's
// handler fails fast instead (its message comes back after the reset); a
// reconciliation reading the whole org through a quota smaller than the org
// would otherwise never finish.
func WaitForQuota(ctx context.Context, max time.Duration) context.Context {
	return context.WithValue(ctx, quotaKey{}, max)
}

// waitQuota sleeps through err's delay when ctx asks for it; false when
// the caller should return err.
func waitQuota(ctx context.Context, err error) bool {
	max, ok := ctx.Value(quotaKey{}).(time.Duration)
	return ok && errclass.SleepRateLimited(ctx, err, max)
}
