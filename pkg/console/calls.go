package console

import (
	"context"
	"net/http"
	"sync/atomic"
)

type callsKey struct{}

// WithCallCounter returns a context under which every request the client
// sends to the Console adds one to n (each page of a listing included), so that
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
