package storetest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/idsync/idsync/services/eventlog/store"
)

// known: Known finds stored ids, whatever their kind, in any month, among
// more ids than one statement of a store takes, and nothing for ids never
// stored (or for none asked).
func known(t *testing.T, s store.Store) {
	ctx := context.Background()
	var recs []store.Record
	var asked []string
	want := map[string]bool{}
	for i := range 1200 {
		id := fmt.Sprintf("known-%04d", i)
		asked = append(asked, id)
		if i%3 != 0 {
			continue
		}
		// Spread over two months, so that a partitioned store looks in each.
		r := Rec(id, "kate", i*60)
		if i%2 == 0 {
			r.Kind = store.KindOutcome
		}
		recs = append(recs, r)
		want[id] = true
	}
	insert(t, s, recs...)
	asked = append(asked, "known-0003", "never-stored")
	tests := []struct {
		name string
		ids  []string
		want map[string]bool
	}{
		{name: "many ids, some stored", ids: asked, want: want},
		{name: "none asked", ids: nil, want: map[string]bool{}},
		{name: "none stored", ids: []string{"nope-1", "nope-2"}, want: map[string]bool{}},
		{name: "an odd id", ids: []string{"bad\x00id", "known-0000"}, want: map[string]bool{"known-0000": true}},
	}
	for _, tc := range tests {
		got, err := s.Known(ctx, tc.ids)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !maps.Equal(got, tc.want) {
			extra := slices.Sorted(maps.Keys(got))
			t.Errorf("%s: %d known, want %d (%v…)", tc.name, len(got), len(tc.want), extra[:min(5, len(extra))])
		}
	}
}
