package guard_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/guard"
	"github.com/idsync/idsync/pkg/internal/fuzzing"
	"github.com/idsync/idsync/pkg/logging"
)

// FuzzAllowRemoval: whatever state the guard bucket holds for a consumer,
// AllowRemoval refuses a corrupt one with a permanent error and changes
// nothing, keeps a paused consumer paused, and otherwise either counts the
// person (never more than the threshold in the window) or trips; what it
// writes reads back, and Resume always ends a pause with an empty count.
func FuzzAllowRemoval(f *testing.F) {
	now := time.Now().UTC().Format(time.RFC3339Nano)
	f.Add([]byte(`{"paused":false,"removals":[{"key":"a","at":"`+now+`"},{"key":"b","at":"`+now+`"}]}`), "c", uint8(2))
	f.Add([]byte(`{"paused":true,"reason":"more than 2 removals","tripped_at":"`+now+`"}`), "a", uint8(2))
	f.Add([]byte(`{"removals":[{"key":"a","at":"0001-01-01T00:00:00Z"},{"key":"b","at":"9999-12-31T23:59:59-23:59"}]}`), "a", uint8(1))
	f.Add([]byte(`{"removals":null}`), "", uint8(0))
	f.Add([]byte(`{"paused":"yes"}`), "a", uint8(3))
	f.Add([]byte(``), "a", uint8(3))
	f.Fuzz(func(t *testing.T, stored []byte, key string, threshold uint8) {
		// Callers count people by a hash of their identity; a key that is
		// not UTF-8 would not survive the JSON the state is kept in.
		key = strings.ToValidUTF8(key, "")
		ctx := context.Background()
		kv := fuzzing.NewKV()
		cfg := guard.Config{Threshold: int(threshold % 4), Window: time.Hour, RetryDelay: time.Second}
		g := guard.New(kv, "gitlab-sync", "gitlab", cfg, nil, logging.Discard(), prometheus.NewRegistry())
		kv.Set("gitlab-sync", stored)
		var before guard.State
		decodeErr := json.Unmarshal(stored, &before)

		err := g.AllowRemoval(ctx, key)
		after, _ := kv.Value("gitlab-sync")
		var s guard.State
		if decodeErr != nil {
			if errclass.Of(err) != errclass.Permanent || string(after) != string(stored) {
				t.Fatalf("corrupt state %q: %v (class %s), now %q", stored, err, errclass.Of(err), after)
			}
			return
		}
		if json.Unmarshal(after, &s) != nil {
			t.Fatalf("the guard wrote a state it cannot read: %q", after)
		}
		switch {
		case before.Paused:
			if !errors.Is(err, guard.ErrPaused) || errclass.Of(err) != errclass.RateLimited || string(after) != string(stored) {
				t.Fatalf("paused: %v, state now %q", err, after)
			}
		case errors.Is(err, guard.ErrPaused):
			if !s.Paused || s.Reason == "" || s.TrippedAt.IsZero() || errclass.Of(err) != errclass.RateLimited {
				t.Fatalf("tripped, but the state is %+v (%v)", s, err)
			}
		case err != nil:
			t.Fatalf("AllowRemoval: %v", err)
		default:
			counted := false
			for _, r := range s.Removals {
				counted = counted || r.Key == key
			}
			if s.Paused || !counted {
				t.Fatalf("allowed %q, but the state is %+v", key, s)
			}
			if string(after) != string(stored) && cfg.Threshold > 0 && len(s.Removals) > cfg.Threshold {
				t.Fatalf("counted %d removals with a threshold of %d", len(s.Removals), cfg.Threshold)
			}
		}

		if err := g.Resume(ctx, "operator"); err != nil {
			t.Fatalf("Resume: %v", err)
		}
		st, err := g.State(ctx)
		if err != nil || st.Paused || (s.Paused && len(st.Removals) != 0) {
			t.Fatalf("after Resume: %+v, %v", st, err)
		}
	})
}
