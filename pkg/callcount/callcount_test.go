package callcount_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/idsync/idsync/pkg/callcount"
)

func TestCountsPerProvider(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer srv.Close()
	okta := &http.Client{Transport: callcount.Transport("okta", http.DefaultTransport)}
	console := &http.Client{Transport: callcount.Transport("console", http.DefaultTransport)}
	var nOkta, nConsole atomic.Int64
	ctx := callcount.With(callcount.With(context.Background(), "okta", &nOkta), "console", &nConsole)
	send := func(c *http.Client, ctx context.Context) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	cases := []struct {
		name         string
		client       *http.Client
		ctx          context.Context
		okta, consol int64
	}{
		{"okta's client counts under okta", okta, ctx, 1, 0},
		{"the console's under console", console, ctx, 1, 1},
		{"a context without counters counts nothing", okta, context.Background(), 1, 1},
		{"again", okta, ctx, 2, 1},
	}
	for _, tc := range cases {
		send(tc.client, tc.ctx)
		if nOkta.Load() != tc.okta || nConsole.Load() != tc.consol {
			t.Fatalf("%s: okta %d console %d, want %d and %d", tc.name, nOkta.Load(), nConsole.Load(), tc.okta, tc.consol)
		}
	}
}
