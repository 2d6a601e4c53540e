// Package callcount counts the requests a provider client sends on behalf
// of one piece of work: a reconciliation says what its scan and apply cost
// against a provider's rate limit while the same client, shared with the
// consumer, handles events meanwhile. A context carries one counter per
// provider, so that work reading several providers (the Console, Okta, the
// provider it reconciles) counts each apart.
package callcount

import (
	"context"
	"net/http"
	"sync/atomic"
)

type key struct{ provider string }

// With returns a context under which every request that provider's
// client sends adds one to n (each page of a listing included).
func With(ctx context.Context, provider string, n *atomic.Int64) context.Context {
	return context.WithValue(ctx, key{provider}, n)
}

// Transport counts the requests of contexts made by With for provider. It
// belongs closest to the network, below the rate-limit pacer: a call the
// pacer holds back is not sent and not counted.
func Transport(provider string, next http.RoundTripper) http.RoundTripper {
	return counting{provider: provider, next: next}
}

type counting struct {
	provider string
	next     http.RoundTripper
}

func (c counting) RoundTrip(r *http.Request) (*http.Response, error) {
	if n, ok := r.Context().Value(key{c.provider}).(*atomic.Int64); ok {
		n.Add(1)
	}
	return c.next.RoundTrip(r)
}
