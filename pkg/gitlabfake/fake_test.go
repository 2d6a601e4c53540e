package gitlabfake_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/gitlabfake"
)

const token = "glpat-fake-test"

func serve(t *testing.T) (*gitlabfake.Fake, *httptest.Server) {
	t.Helper()
	f := gitlabfake.New(token)
	srv := httptest.NewServer(f.Handler())
	t.Cleanup(srv.Close)
	return f, srv
}

func call(t *testing.T, srv *httptest.Server, method, path, body string, header ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	req.Header.Set("PRIVATE-TOKEN", token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestRequests plays requests in order against one instance, as GitLab
// documents them: status and body.
func TestRequests(t *testing.T) {
	t.Parallel()
	f, srv := serve(t)
	ann := f.AddUser(gitlabfake.User{Email: "ann@example.com", LastActivity: time.Now()})
	old := f.AddUser(gitlabfake.User{Email: "old@example.com", LastActivity: time.Now().Add(-100 * 24 * time.Hour)})
	f.AddGroup("acme/p1/sub")
	f.SetMember("acme", old.ID, gitlabfake.Owner)
	steps := []struct {
		method, path, body string
		header             []string
		status             int
		contains           string
	}{
		{"GET", "/api/v4/users", "", []string{"PRIVATE-TOKEN", ""}, 401, `"401 Unauthorized"`},
		{"GET", "/api/v4/users", "", []string{"PRIVATE-TOKEN", "glpat-wrong"}, 401, `"401 Unauthorized"`},
		{"GET", "/api/v4/users?username=ANN", "", []string{"PRIVATE-TOKEN", "", "Authorization", "Bearer " + token}, 200, `"username":"ann"`},
		{"GET", "/no/api/here", "", nil, 404, `"404 Not Found"`},
		{"GET", "/any/base/api/v4/groups/acme%2Fp1", "", nil, 200, `"full_path":"acme/p1"`},
		{"GET", "/api/v4/groups/acme%2Fnone", "", nil, 404, `"404 Group Not Found"`},
		{"POST", "/api/v4/users", `{"email":"ann@example.com","username":"ann2","name":"A","force_random_password":true}`, nil, 409, `"Email has already been taken"`},
		{"POST", "/api/v4/users", `{"email":"bob@example.com","username":"ANN","name":"B","force_random_password":true}`, nil, 409, `"Username has already been taken"`},
		{"POST", "/api/v4/users", `{"email":"bob@example.com","username":"bob","name":"B"}`, nil, 400, `exactly one parameter must be provided`},
		{"POST", "/api/v4/users", `{"email":"bob@example.com","username":"-bob","name":"B","reset_password":true}`, nil, 400, `"username"`},
		{"POST", "/api/v4/users", `{"email":"bob@example.com","username":"bob","name":"B","reset_password":true}`, nil, 201, `"username":"bob"`},
		{"POST", "/api/v4/groups/acme%2Fp1/members", fmt.Sprintf(`{"user_id":%d,"access_level":30}`, ann.ID), nil, 201, `"access_level":30`},
		{"POST", "/api/v4/groups/acme%2Fp1/members", fmt.Sprintf(`{"user_id":%d,"access_level":40}`, ann.ID), nil, 409, `"Member already exists"`},
		{"POST", "/api/v4/groups/acme%2Fp1/members", fmt.Sprintf(`{"user_id":%d,"access_level":31}`, ann.ID), nil, 409, ``},
		{"POST", "/api/v4/groups/acme%2Fp1/members", `{"user_id":999,"access_level":30}`, nil, 404, `"404 User Not Found"`},
		{"PUT", fmt.Sprintf("/api/v4/groups/acme%%2Fp1/members/%d", ann.ID), `{"access_level":7}`, nil, 400, `"access_level"`},
		{"PUT", fmt.Sprintf("/api/v4/groups/acme%%2Fp1/members/%d", ann.ID), `{"access_level":40}`, nil, 200, `"access_level":40`},
		// old is an owner of acme: a member of acme/p1 only by inheritance.
		{"GET", fmt.Sprintf("/api/v4/groups/acme%%2Fp1/members/%d", old.ID), "", nil, 404, `"404 Member Not Found"`},
		{"GET", fmt.Sprintf("/api/v4/groups/acme%%2Fp1/members/all/%d", old.ID), "", nil, 200, `"access_level":50`},
		{"PUT", fmt.Sprintf("/api/v4/groups/acme%%2Fp1/members/%d", old.ID), `{"access_level":30}`, nil, 404, ``},
		{"DELETE", fmt.Sprintf("/api/v4/groups/acme%%2Fp1/members/%d", old.ID), "", nil, 404, ``},
		{"POST", "/api/v4/groups/acme%2Fp1/members", fmt.Sprintf(`{"user_id":%d,"access_level":30}`, old.ID), nil, 400, `inherited membership from group acme`},
		{"DELETE", fmt.Sprintf("/api/v4/groups/acme/members/%d", old.ID), "", nil, 403, ``}, // the last owner
		{"POST", fmt.Sprintf("/api/v4/users/%d/deactivate", ann.ID), "", nil, 403, `active in the past 90 days`},
		{"POST", fmt.Sprintf("/api/v4/users/%d/deactivate", old.ID), "", nil, 201, `true`},
		{"POST", fmt.Sprintf("/api/v4/users/%d/unblock", old.ID), "", nil, 403, `Deactivated users cannot be unblocked`},
		{"POST", fmt.Sprintf("/api/v4/users/%d/activate", old.ID), "", nil, 201, `true`},
		{"POST", fmt.Sprintf("/api/v4/users/%d/block", ann.ID), "", nil, 201, `true`},
		{"GET", fmt.Sprintf("/api/v4/users/%d", ann.ID), "", nil, 200, `"state":"blocked"`},
		{"POST", fmt.Sprintf("/api/v4/users/%d/deactivate", ann.ID), "", nil, 403, `A blocked user cannot be deactivated`},
		{"POST", fmt.Sprintf("/api/v4/users/%d/unblock", ann.ID), "", nil, 201, `true`},
		{"DELETE", fmt.Sprintf("/api/v4/users/%d", ann.ID), "", nil, 204, ``},
		{"GET", fmt.Sprintf("/api/v4/users/%d", ann.ID), "", nil, 404, `"404 User Not Found"`},
		{"POST", fmt.Sprintf("/api/v4/users/%d/block", ann.ID), "", nil, 404, `"404 User Not Found"`},
	}
	for i, s := range steps {
		resp, body := call(t, srv, s.method, s.path, s.body, s.header...)
		if resp.StatusCode != s.status || !strings.Contains(body, s.contains) {
			t.Fatalf("step %d %s %s: %d %s, want %d containing %s", i, s.method, s.path, resp.StatusCode, body, s.status, s.contains)
		}
	}
	if got := f.Memberships(ann.ID); len(got) != 0 {
		t.Errorf("a deleted user's memberships remain: %v", got)
	}
}

func TestRemovingAMemberKeepsSubgroupsOnlyOnRequest(t *testing.T) {
	t.Parallel()
	for _, skip := range []bool{false, true} {
		f, srv := serve(t)
		u := f.AddUser(gitlabfake.User{Email: "ann@example.com"})
		f.SetMember("acme/p1", u.ID, gitlabfake.Developer)
		f.SetMember("acme/p1/sub", u.ID, gitlabfake.Maintainer)
		resp, _ := call(t, srv, "DELETE", fmt.Sprintf("/api/v4/groups/acme%%2Fp1/members/%d?skip_subresources=%v", u.ID, skip), "")
		if _, kept := f.Member("acme/p1/sub", u.ID); resp.StatusCode != 204 || kept != skip {
			t.Errorf("skip_subresources=%v: %d, subgroup membership kept %v", skip, resp.StatusCode, kept)
		}
	}
}

func TestPagination(t *testing.T) {
	t.Parallel()
	f, srv := serve(t)
	for i := range 45 {
		f.AddUser(gitlabfake.User{Email: fmt.Sprintf("u%02d@example.com", i)})
	}
	tests := []struct {
		query                   string
		page, pages, next, prev string
		count                   int
		linkNext                string // in the Link header; "" = no next link
	}{
		{query: "", page: "1", pages: "3", next: "2", prev: "", count: 20, linkNext: "page=2"},
		{query: "?page=2&per_page=20", page: "2", pages: "3", next: "3", prev: "1", count: 20, linkNext: "page=3"},
		{query: "?page=3", page: "3", pages: "3", next: "", prev: "2", count: 5},
		{query: "?page=9", page: "9", pages: "3", next: "", prev: "3", count: 0},
		{query: "?per_page=500", page: "1", pages: "1", next: "", prev: "", count: 45},
	}
	for _, tc := range tests {
		resp, body := call(t, srv, "GET", "/gitlab/api/v4/users"+tc.query, "")
		h := resp.Header
		got := strings.Count(body, `"id":`)
		if h.Get("X-Page") != tc.page || h.Get("X-Total") != "45" || h.Get("X-Total-Pages") != tc.pages ||
			h.Get("X-Next-Page") != tc.next || h.Get("X-Prev-Page") != tc.prev || got != tc.count {
			t.Errorf("%q: page %s total %s pages %s next %q prev %q, %d items", tc.query,
				h.Get("X-Page"), h.Get("X-Total"), h.Get("X-Total-Pages"), h.Get("X-Next-Page"), h.Get("X-Prev-Page"), got)
		}
		link := h.Get("Link")
		if tc.linkNext != "" && (!strings.Contains(link, tc.linkNext) || !strings.Contains(link, `rel="next"`) || !strings.Contains(link, srv.URL+"/gitlab/api/v4/users")) {
			t.Errorf("%q: Link %s", tc.query, link)
		}
		if tc.linkNext == "" && strings.Contains(link, `rel="next"`) {
			t.Errorf("%q: a next link on the last page: %s", tc.query, link)
		}
	}
}

func TestFaultsInGitLabStyle(t *testing.T) {
	t.Parallel()
	f, srv := serve(t)
	f.Faults().FailNext(1, 429, "GET", "/api/v4/users", 2*time.Second)
	resp, _ := call(t, srv, "GET", "/api/v4/users", "")
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" || resp.Header.Get("RateLimit-Remaining") != "0" || resp.Header.Get("RateLimit-Reset") == "" {
		t.Fatalf("injected 429: %d %v", resp.StatusCode, resp.Header)
	}
	f.Faults().RateLimit(2, time.Minute)
	for i, want := range []int{200, 200, 429} {
		resp, _ := call(t, srv, "GET", "/api/v4/users", "")
		if resp.StatusCode != want || resp.Header.Get("RateLimit-Limit") != "2" {
			t.Fatalf("call %d: %d, limit %q", i, resp.StatusCode, resp.Header.Get("RateLimit-Limit"))
		}
	}
	if f.Faults().Writes() != 0 {
		t.Fatalf("%d writes", f.Faults().Writes())
	}
}

// TestListings: a group's member listing holds its direct members only,
// paged like every listing; the user listing can run oldest first and
// marks bots.
func TestListings(t *testing.T) {
	t.Parallel()
	f, srv := serve(t)
	var ids []int64
	for i := range 45 {
		u := f.AddUser(gitlabfake.User{Email: fmt.Sprintf("u%02d@example.com", i), Bot: i == 44})
		ids = append(ids, u.ID)
		f.SetMember("acme/p1", u.ID, gitlabfake.Developer)
	}
	f.SetMember("acme", ids[0], gitlabfake.Owner) // inherited in acme/p1, listed there as the direct developer it is
	inherited := f.AddUser(gitlabfake.User{Email: "owner@example.com"})
	f.SetMember("acme", inherited.ID, gitlabfake.Owner)
	tests := []struct {
		path, first, next string
		count             int
	}{
		{path: "/api/v4/groups/acme%2Fp1/members", first: fmt.Sprintf(`"id":%d,`, ids[0]), next: "2", count: 20},
		{path: "/api/v4/groups/acme%2Fp1/members?page=3&per_page=20", first: fmt.Sprintf(`"id":%d,`, ids[40]), count: 5},
		{path: "/api/v4/groups/acme%2Fp1/members?per_page=100", first: fmt.Sprintf(`"access_level":%d`, gitlabfake.Developer), count: 45},
		{path: "/api/v4/groups/acme/members", first: `"access_level":50`, count: 2},
		{path: "/api/v4/groups/acme%2Fnone/members", first: `"404 Group Not Found"`},
		{path: "/api/v4/users?sort=asc&per_page=1", first: `"u00@example.com"`, next: "2", count: 1},
		{path: "/api/v4/users?per_page=1", first: `"owner@example.com"`, next: "2", count: 1},
		{path: "/api/v4/users?search=u44@", first: `"bot":true`, count: 1},
	}
	for _, tc := range tests {
		resp, body := call(t, srv, "GET", tc.path, "")
		if got := strings.Count(body, `"id":`); got != tc.count || !strings.Contains(body, tc.first) || resp.Header.Get("X-Next-Page") != tc.next {
			t.Errorf("%s: %d items, next page %q, want %d, %q, containing %s: %.200s", tc.path, got, resp.Header.Get("X-Next-Page"), tc.count, tc.next, tc.first, body)
		}
		if tc.count > 0 && strings.Contains(tc.path, "members") && strings.Contains(body, fmt.Sprintf(`"id":%d,`, inherited.ID)) && !strings.HasPrefix(tc.path, "/api/v4/groups/acme/") {
			t.Errorf("%s lists a member inherited from the parent group", tc.path)
		}
	}
}
