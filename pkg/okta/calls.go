package okta

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/idsync/idsync/pkg/errclass"
)

type callsKey struct{}

// WithCallCounter returns a context under which every request the client
// sends to the Okta adds one to n (each page of a listing included), so that
// a reconciliation can say what its scan and apply cost while events are
// handled on the same client. Calls the pacer holds back are not sent and
// not counted.
func WithCallCounter(ctx context.Context, n *atomic.Int64) context.Context {
	return context.WithValue(ctx, callsKey{}, n)
}

// counting is the transport closest to the network: it counts the requests
// of contexts made by WithCallCounter.
type counting struct{ next http.RoundTripper }

func (c counting) RoundTrip(r *http.Request) (*http.Response, error) {
	if n, ok := r.Context().Value(callsKey{}).(*atomic.Int64); ok {
		n.Add(1)
	}
	return c.next.RoundTrip(r)
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
	if !ok || errclass.Of(err) != errclass.RateLimited {
		return false
	}
	d := errclass.DelayOf(err)
	if d <= 0 || d > max {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
