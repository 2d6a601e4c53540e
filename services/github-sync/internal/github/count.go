package github

import (
	"context"
	"net/http"
	"sync/atomic"
)

type counterKey struct{}

// WithCallCounter returns a context under which every request the client sends
// to GitHub (each page of a listing, each token minted) adds one to n, so
// that a reconciliation can say what its scan cost against the rate limit
// while events are handled on the same client. Requests the pacer holds
// back locally are not sent and not counted.
func WithCallCounter(ctx context.Context, n *atomic.Int64) context.Context {
	return context.WithValue(ctx, counterKey{}, n)
}

// counting is the transport closest to the network: it counts the
// requests of contexts made by WithCallCounter.
type counting struct{ next http.RoundTripper }

func (c counting) RoundTrip(r *http.Request) (*http.Response, error) {
	if n, ok := r.Context().Value(counterKey{}).(*atomic.Int64); ok {
		n.Add(1)
	}
	return c.next.RoundTrip(r)
}
