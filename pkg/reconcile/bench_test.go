package reconcile_test

import (
	"testing"

	"github.com/idsync/idsync/pkg/reconcile"
)

// BenchmarkReport10000 is the framework's share of a 10,000-person
// reconciliation: a report of 10,000 differences (the diff itself is in
// memory) streamed to the requester and read back, and its event
// truncated and published.
func BenchmarkReport10000(b *testing.B) {
	bd := newBed(b, 0)
	var drift []reconcile.Item
	for i := range 10000 {
		drift = append(drift, item([]reconcile.Op{reconcile.OpAdd, reconcile.OpChange, reconcile.OpRemove}[i%3], i))
	}
	r, _ := bd.runner(&fake{items: drift})
	bd.serve(r)
	for b.Loop() {
		rep, err := bd.request(reconcile.Request{})
		if err != nil || rep.ItemCount != 10000 {
			b.Fatalf("%v, %d items", err, rep.ItemCount)
		}
	}
}
