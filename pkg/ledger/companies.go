package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/idsync/idsync/pkg/errclass"
)

// Companies lists the Console companies of every grant idsync manages at
// provider, sorted: a reconciliation covers them even when no rule names
// them any more (their grants may be left to revoke).
//
// It reads the provider's entries once, through a watch of its keys (one
// ordered consumer for the call, delivering the latest value of each key),
// rather than one Get per key.
func (l *Ledger) Companies(ctx context.Context, provider string) ([]string, error) {
	w, err := l.kv.Watch(ctx, provider+".>", jetstream.IgnoreDeletes())
	if err != nil {
		return nil, errclass.AsRetryable(fmt.Errorf("ledger: %w", err))
	}
	defer func() { _ = w.Stop() }()
	seen := map[string]bool{}
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case e, ok := <-w.Updates():
			if !ok {
				return nil, errclass.AsRetryable(fmt.Errorf("ledger: the watch of %s's grants stopped", provider))
			}
			if e == nil { // every current entry has been delivered
				out := make([]string, 0, len(seen))
				for c := range seen {
					out = append(out, c)
				}
				sort.Strings(out)
				return out, nil
			}
			var g Grant
			if json.Unmarshal(e.Value(), &g) == nil && g.CompanyID != "" {
				seen[g.CompanyID] = true
			}
		}
	}
}
