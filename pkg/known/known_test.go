package known_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/idsync/idsync/pkg/bus/bustest"
	"github.com/idsync/idsync/pkg/known"
	"github.com/idsync/idsync/pkg/logging"
)

func TestKnown(t *testing.T) {
	srv := bustest.Start(t)
	ns := bustest.Namespace(t)
	nc, err := nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	var calls atomic.Int32
	failing := errors.New("disk on fire")
	sub, err := known.Serve(nc, ns, func(_ context.Context, ids []string) (map[string]bool, error) {
		calls.Add(1)
		out := map[string]bool{}
		for _, id := range ids {
			if id == "boom" {
				return nil, failing
			}
			if len(id) > 0 && id[0] == 'k' {
				out[id] = true
			}
		}
		return out, nil
	}, time.Second, logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	c := known.NewClient(nc, ns, time.Second)
	many := make([]string, 2500)
	for i := range many {
		many[i] = fmt.Sprintf("x%d", i)
	}
	many[0], many[1999], many[2499] = "k-first", "k-middle", "k-last"
	tests := []struct {
		name      string
		ids       []string
		want      int
		wantCalls int32
		wantErr   bool
	}{
		{name: "some held", ids: []string{"k1", "u1", "k2"}, want: 2, wantCalls: 1},
		{name: "more than one request takes", ids: many, want: 3, wantCalls: 3},
		{name: "none asked", ids: nil, want: 0, wantCalls: 0},
		{name: "the store fails", ids: []string{"k1", "boom"}, wantErr: true, wantCalls: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls.Store(0)
			got, err := c.Known(context.Background(), tc.ids)
			if tc.wantErr {
				if !errors.Is(err, known.ErrUnavailable) {
					t.Fatalf("err %v, want ErrUnavailable", err)
				}
			} else if err != nil || len(got) != tc.want {
				t.Fatalf("known %v (%v), want %d", got, err, tc.want)
			}
			if n := calls.Load(); n != tc.wantCalls {
				t.Errorf("%d lookups, want %d", n, tc.wantCalls)
			}
		})
	}

	t.Run("a request out of bounds is refused", func(t *testing.T) {
		for _, body := range []string{`not json`, `{"ids":[]}`, fmt.Sprintf(`{"ids":%s}`, mustJSON(make([]string, known.MaxIDs+1)))} {
			m, err := nc.Request(known.Subject(ns), []byte(body), time.Second)
			if err != nil {
				t.Fatal(err)
			}
			var resp known.Response
			if err := json.Unmarshal(m.Data, &resp); err != nil || resp.Error == "" {
				t.Errorf("%.20s…: answered %s, want an error", body, m.Data)
			}
		}
	})

	t.Run("no event log answering", func(t *testing.T) {
		if err := sub.Unsubscribe(); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Known(context.Background(), []string{"k1"}); !errors.Is(err, known.ErrUnavailable) {
			t.Fatalf("err %v, want ErrUnavailable", err)
		}
	})
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
