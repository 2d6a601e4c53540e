package eventlog

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/logging"
	"github.com/idsync/idsync/services/eventlog/store"
	"github.com/idsync/idsync/services/eventlog/store/storetest"
)

const (
	apiUser = "auditor"
	apiPass = "correct horse battery staple"
)

// apiServer serves the API over st with one user.
func apiServer(t testing.TB, st store.Store) *httptest.Server {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(apiPass), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	users, err := ParseUsers(config.Secrets{config.Secret(apiUser + ":" + string(hash))})
	if err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	NewAPI(st, users, "idsync", logging.Discard()).Mount(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

// get requests path with the test user's credentials (or none, or others).
func get(t *testing.T, srv *httptest.Server, path string, auth func(*http.Request)) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth == nil {
		req.SetBasicAuth(apiUser, apiPass)
	} else {
		auth(req)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, body
}

// The seed's error answers, word for word.
var seedErrors = map[int]string{
	4002: `{"error_code":4002,"error_message":"Invalid limit (must be a number between 1 and 1000)"}`,
	4003: `{"error_code":4003,"error_message":"Invalid offset (must be at least 0)"}`,
	4004: `{"error_code":4004,"error_message":"Both user ID and actor ID are missing"}`,
}

func TestEventsParameterValidation(t *testing.T) {
	srv := apiServer(t, openSQLite(t))
	cases := []struct {
		query string
		code  int // 0: valid (200)
	}{
		// limit: required, an integer from 1 to 1000; checked first.
		{"offset=0&userId=ann", 4002},
		{"limit=&offset=0&userId=ann", 4002},
		{"limit=0&offset=0&userId=ann", 4002},
		{"limit=-1&offset=0&userId=ann", 4002},
		{"limit=1001&offset=0&userId=ann", 4002},
		{"limit=abc&offset=0&userId=ann", 4002},
		{"limit=1.5&offset=0&userId=ann", 4002},
		{"limit=1e3&offset=0&userId=ann", 4002},
		{"limit=99999999999999999999&offset=0&userId=ann", 4002},
		{"limit=0&offset=-1", 4002}, // every parameter wrong: limit first
		{"limit=0&offset=-1&actor=admin", 4002},
		// offset: required (unless a cursor is given), an integer ≥ 0.
		{"limit=10&userId=ann", 4003},
		{"limit=10&offset=&userId=ann", 4003},
		{"limit=10&offset=-1&userId=ann", 4003},
		{"limit=10&offset=x&userId=ann", 4003},
		{"limit=10&offset=1.0&actor=admin", 4003},
		{"limit=10&offset=-5", 4003}, // offset wrong and no person: offset first
		// actor or userId: at least one, not blank.
		{"limit=10&offset=0", 4004},
		{"limit=10&offset=0&userId=", 4004},
		{"limit=10&offset=0&actor=&userId=", 4004},
		{"limit=10&offset=0&userId=%20%20", 4004},
		{"limit=10&offset=0&type=okta.delete.user", 4004},
		// idsync's filters.
		{"limit=10&offset=0&userId=ann&type=no.such.type", 4005},
		{"limit=10&offset=0&userId=ann&type=OKTA.DELETE.USER", 4005},
		{"limit=10&offset=0&userId=ann&from=yesterday", 4006},
		{"limit=10&offset=0&userId=ann&to=2026-13-01T00:00:00Z", 4006},
		{"limit=10&offset=0&userId=ann&from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z", 4006},
		{"limit=10&offset=0&userId=ann&from=1700000000000&to=1700000000000", 4006},
		{"limit=10&offset=0&userId=ann&from=-1", 4006},
		{"limit=10&offset=0&userId=ann&outcome=grnted", 4007},
		{"limit=10&userId=ann&cursor=%25%25%25", 4008},
		{"limit=10&userId=ann&cursor=MTcwMDAwMDAwMDAwMC4tMQ", 4008}, // seq -1
		{"limit=10&userId=ann&cursor=bm90LWEtY3Vyc29y", 4008},
		{"limit=10&userId=ann&cursor=MjUzNDAyMzAwODAwMDAwLjU", 4008},      // the year 10000
		{"limit=10&userId=ann&cursor=OTAwMDAwMDAwMDAwMDAwMDAwMC41", 4008}, // beyond any store's times
		{"limit=10&offset=0&userId=ann&to=253402300800000", 4006},         // the year 10000
		// Valid.
		{"limit=1&offset=0&userId=ann", 0},
		{"limit=1000&offset=0&actor=admin", 0},
		{"limit=10&offset=5&actor=admin&userId=ann", 0},
		{"limit=10&offset=0&userId=ann&type=okta.delete.user", 0},
		{"limit=10&offset=0&userId=ann&type=okta.UserDeletedEvent", 0},
		{"limit=10&offset=0&userId=ann&type=gitlab.GroupMemberRemovedEvent", 0},
		{"limit=10&offset=0&userId=ann&type=idsync.PersonForgottenEvent", 0},
		{"limit=10&offset=0&userId=ann&from=2026-11-01T00:00:00Z&to=1800000000000", 0},
		{"limit=10&offset=0&userId=ann&outcome=REVOKED", 0},
		{"limit=10&offset=0&userId=ann&outcome=rate_limited", 0},
		{"limit=10&userId=ann&cursor=" + encodeCursor(store.Record{Occurred: time.UnixMilli(1700000000000), Seq: 7}), 0},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			status, h, body := get(t, srv, "/api/events?"+tc.query, nil)
			if tc.code == 0 {
				if status != http.StatusOK {
					t.Fatalf("status %d (%s), want 200", status, body)
				}
				var rs ResultSet
				if err := json.Unmarshal(body, &rs); err != nil || rs.ResultSet == nil {
					t.Fatalf("not a ResultSet: %s", body)
				}
				return
			}
			if status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", status)
			}
			if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			want := seedErrors[tc.code]
			if want == "" {
				want = fmt.Sprintf(`{"error_code":%d,"error_message":%q}`, tc.code, ErrorMessage(tc.code))
			}
			if got := strings.TrimSpace(string(body)); got != want {
				t.Errorf("body %s\nwant %s", got, want)
			}
		})
	}
}

func TestEventsAuthentication(t *testing.T) {
	srv := apiServer(t, openSQLite(t))
	const valid = "/api/events?limit=10&offset=0&userId=ann"
	cases := []struct {
		name string
		path string
		auth func(*http.Request)
		want int
	}{
		{"no credentials", valid, func(*http.Request) {}, 401},
		{"wrong password", valid, func(r *http.Request) { r.SetBasicAuth(apiUser, "wrong") }, 401},
		{"password of another case", valid, func(r *http.Request) { r.SetBasicAuth(apiUser, strings.ToUpper(apiPass)) }, 401},
		{"unknown user", valid, func(r *http.Request) { r.SetBasicAuth("mallory", apiPass) }, 401},
		{"empty user", valid, func(r *http.Request) { r.SetBasicAuth("", apiPass) }, 401},
		{"bearer token", valid, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+apiPass) }, 401},
		{"malformed basic", valid, func(r *http.Request) { r.Header.Set("Authorization", "Basic !!!") }, 401},
		{"invalid parameters without credentials", "/api/events?limit=0", func(*http.Request) {}, 401},
		{"valid", valid, nil, 200},
		{"valid again (cached)", valid, nil, 200},
		{"wrong password after a success", valid, func(r *http.Request) { r.SetBasicAuth(apiUser, apiPass+"x") }, 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := get(t, srv, tc.path, tc.auth)
			if status != tc.want {
				t.Fatalf("status %d (%s), want %d", status, body, tc.want)
			}
			if tc.want != 401 {
				return
			}
			if wa := h.Get("WWW-Authenticate"); !strings.HasPrefix(wa, "Basic realm=") {
				t.Errorf("WWW-Authenticate %q", wa)
			}
			if got := strings.TrimSpace(string(body)); got != `{"error_code":4001,"error_message":"Authentication required"}` {
				t.Errorf("body %s", got)
			}
		})
	}
}

func TestEventsAnswerInTheSeedShape(t *testing.T) {
	st := openSQLite(t)
	rec := storetest.Rec("evt-1", "ann", 5)
	rec.Reason = "left the company"
	if _, err := st.Insert(context.Background(), []store.Record{rec, storetest.Rec("evt-2", "bob", 6)}); err != nil {
		t.Fatal(err)
	}
	srv := apiServer(t, st)
	status, _, body := get(t, srv, "/api/events?limit=10&offset=0&userId=ANN@example.com", nil)
	if status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	var raw struct {
		ResultSet  []map[string]any `json:"resultSet"`
		Pagination map[string]any   `json:"pagination"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.ResultSet) != 1 {
		t.Fatalf("%d results, want 1: %s", len(raw.ResultSet), body)
	}
	want := map[string]any{
		"event_identifier": "evt-1", "person_id": "00uann", "occurred": float64(rec.Occurred.UnixMilli()),
		"event_type": "okta.UserDeletedEvent", "event_name": "Okta User Deleted", "client_ip": "192.0.2.1",
		"user_agent": "Mozilla/5.0", "partition_id": "acme", "event_agent_user": "admin@example.com", "reason": "left the company",
	}
	for k, v := range want {
		if got := raw.ResultSet[0][k]; got != v {
			t.Errorf("%s = %v, want %v", k, got, v)
		}
	}
	if p := raw.Pagination; p["offset"] != float64(0) || p["pageSize"] != float64(10) || p["totalResults"] != float64(1) {
		t.Errorf("pagination %v", p)
	}
}

// TestPaginationWhileInserting walks a person's history page by page while
// new records about them keep arriving: the keyset walk sees exactly the
// records that existed when it started (newer ones sort before its
// position), and every page's totalResults is the count at that moment.
func TestPaginationWhileInserting(t *testing.T) {
	st := openSQLite(t)
	const before = 120
	recs := make([]store.Record, before)
	for i := range recs {
		recs[i] = storetest.Rec(fmt.Sprintf("old-%03d", i), "ann", i)
	}
	if _, err := st.Insert(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	srv := apiServer(t, st)

	var mu sync.Mutex
	inserted := before
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			// Newer than everything stored: a live event.
			if _, err := st.Insert(context.Background(), []store.Record{storetest.Rec(fmt.Sprintf("new-%03d", i), "ann", 10000+i)}); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			inserted++
			mu.Unlock()
			time.Sleep(time.Millisecond)
		}
	}()

	var seen []string
	cursor := ""
	lastTotal := 0
	for pages := 0; ; pages++ {
		mu.Lock()
		low := inserted
		mu.Unlock()
		q := url.Values{"limit": {"7"}, "userId": {"ann@example.com"}}
		if cursor == "" {
			q.Set("offset", "0")
		} else {
			q.Set("cursor", cursor)
		}
		status, _, body := get(t, srv, "/api/events?"+q.Encode(), nil)
		mu.Lock()
		high := inserted
		mu.Unlock()
		if status != 200 {
			t.Fatalf("status %d: %s", status, body)
		}
		var rs ResultSet
		if err := json.Unmarshal(body, &rs); err != nil {
			t.Fatal(err)
		}
		// The total counts the records committed when the page was read.
		if total := rs.Pagination.TotalResults; total < low || total > high+1 || total < lastTotal {
			t.Fatalf("page %d: totalResults %d, want between %d and %d and at least the previous %d", pages, total, low, high+1, lastTotal)
		}
		lastTotal = rs.Pagination.TotalResults
		for _, e := range rs.ResultSet {
			seen = append(seen, e.EventIdentifier)
		}
		if rs.NextCursor == "" {
			break
		}
		cursor = rs.NextCursor
		if pages > 200 {
			t.Fatal("the walk does not end")
		}
	}
	close(stop)
	<-done
	if inserted-before < 3 {
		t.Fatalf("only %d records were inserted during the walk; it did not test concurrency", inserted-before)
	}

	// Every old record exactly once, in order (newest first), plus the new
	// ones the first page caught.
	var old []string
	for _, id := range seen {
		if strings.HasPrefix(id, "old-") {
			old = append(old, id)
		}
	}
	if len(old) != before {
		t.Fatalf("the walk saw %d of the %d old records", len(old), before)
	}
	for i, id := range old {
		if want := fmt.Sprintf("old-%03d", before-1-i); id != want {
			t.Fatalf("position %d: %s, want %s", i, id, want)
		}
	}
	if dup := len(seen) - len(slicesCompact(seen)); dup != 0 {
		t.Fatalf("%d records seen twice", dup)
	}
}

func slicesCompact(ids []string) []string {
	c := slices.Clone(ids)
	slices.Sort(c)
	return slices.Compact(c)
}
