package gitlab

import (
	"context"
	"net/http"
	"sync/atomic"
)

type callsKey struct{}

// WithCallCounter returns a context under which every GitLab request is
// counted in n: a reconciliation reports what its own scan and apply cost,
// apart from the events the consumer handles meanwhile on the same client.
func WithCallCounter(ctx context.Context, n *atomic.Int64) context.Context {
	return context.WithValue(ctx, callsKey{}, n)
}

// counting counts the requests that reach the network (below the pacer,
// which can refuse a call without sending it).
type counting struct{ next http.RoundTripper }

func (c counting) RoundTrip(r *http.Request) (*http.Response, error) {
	if n, ok := r.Context().Value(callsKey{}).(*atomic.Int64); ok {
		n.Add(1)
	}
	return c.next.RoundTrip(r)
}
