package console

import (
	"context"
	"sync/atomic"

	"github.com/idsync/idsync/pkg/callcount"
	"github.com/idsync/idsync/pkg/events"
)

// WithCallCounter returns a context under which every request the client
// sends to the Console adds one to n (each page of a listing included), so that
// a reconciliation can say what its scan and apply cost while events are
// handled on the same client. Calls the pacer holds back are not sent and
// not counted.
func WithCallCounter(ctx context.Context, n *atomic.Int64) context.Context {
	return callcount.With(ctx, events.ProviderConsole, n)
}
