package eventlog

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/idsync/idsync/services/eventlog/store/storetest"
)

// BenchmarkEventsAPIByUser measures GET /api/events?userId=… over HTTP
// (authentication, validation, the store's count and page in one snapshot,
// JSON) with IDSYNC_BENCH_ROWS records in the store (100,000 unless set)
// about 10,000 people, reporting p50 and p99. The README's figures:
//
//	IDSYNC_BENCH_ROWS=1000000 go test -run '^$' -bench 'EventsAPIByUser/sqlite' -benchtime 3s -timeout 60m .
//	IDSYNC_BENCH_ROWS=10000000 go test -run '^$' -bench 'EventsAPIByUser/postgres' -benchtime 3s -timeout 90m .
func BenchmarkEventsAPIByUser(b *testing.B) {
	rows := storetest.BenchRows()
	for _, kind := range stores {
		b.Run(kind.name, func(b *testing.B) {
			st := kind.open(b)
			storetest.BenchLoad(b, st, rows)
			srv := apiServer(b, st)
			b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
				storetest.BenchLatency(b, rows, func(user string) (int, error) {
					req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/api/events?limit=%d&offset=0&userId=%s",
						srv.URL, storetest.BenchPage, url.QueryEscape(user)), nil)
					if err != nil {
						return 0, err
					}
					req.SetBasicAuth(apiUser, apiPass)
					resp, err := srv.Client().Do(req)
					if err != nil {
						return 0, err
					}
					defer resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						return 0, fmt.Errorf("%s: status %d", user, resp.StatusCode)
					}
					var rs ResultSet
					if err := json.NewDecoder(resp.Body).Decode(&rs); err != nil {
						return 0, err
					}
					return len(rs.ResultSet), nil
				})
			})
		})
	}
}
