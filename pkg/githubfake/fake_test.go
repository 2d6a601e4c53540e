package githubfake_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/githubfake"
)

type client struct {
	t    *testing.T
	base string // server URL + base path
	auth string
}

func setup(t *testing.T) (*githubfake.Fake, *client, *httptest.Server) {
	t.Helper()
	f := githubfake.New()
	f.AddToken("t0k")
	f.AddOrg("acme")
	f.AddUser("ann", "ann@example.com")
	f.AddUser("bob", "")
	srv := httptest.NewServer(f.Handler())
	t.Cleanup(srv.Close)
	return f, &client{t: t, base: srv.URL + f.BasePath(), auth: "Bearer t0k"}, srv
}

// do sends a request and returns the status, headers and decoded body.
func (c *client) do(method, path string, body any) (int, http.Header, any) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, resp.Header, out
}

func field(v any, k string) any {
	m, _ := v.(map[string]any)
	return m[k]
}

func TestAuthenticationAndBasePath(t *testing.T) {
	t.Parallel()
	_, c, srv := setup(t)
	tests := []struct {
		name, auth, url string
		want            int
	}{
		{"bearer token", "Bearer t0k", c.base + "orgs/acme", 200},
		{"token scheme", "token t0k", c.base + "orgs/acme", 200},
		{"no credentials", "", c.base + "orgs/acme", 401},
		{"unknown token", "Bearer nope", c.base + "orgs/acme", 401},
		{"basic scheme", "Basic t0k", c.base + "orgs/acme", 401},
		{"outside the base path", "Bearer t0k", srv.URL + "/orgs/acme", 404},
		{"unknown org", "Bearer t0k", c.base + "orgs/nope", 404},
	}
	for _, tc := range tests {
		req, _ := http.NewRequest("GET", tc.url, nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
		if tc.want >= 400 && (body["message"] == nil || body["documentation_url"] == nil) {
			t.Errorf("%s: error body %v is not GitHub's shape", tc.name, body)
		}
	}
}

func TestOrgMembershipLifecycle(t *testing.T) {
	t.Parallel()
	f, c, _ := setup(t)
	f.AddTeam("acme", "devs")
	if s, _, _ := c.do("GET", "orgs/acme/memberships/ann", nil); s != 404 {
		t.Fatalf("non-member: %d", s)
	}
	s, _, body := c.do("PUT", "orgs/acme/memberships/ann", map[string]string{"role": "member"})
	if s != 200 || field(body, "state") != "pending" || field(body, "role") != "member" {
		t.Fatalf("invite: %d %v", s, body)
	}
	if s, _, _ := c.do("PUT", "orgs/acme/teams/devs/memberships/ann", map[string]string{"role": "maintainer"}); s != 200 {
		t.Fatalf("team add: %d", s)
	}
	if m, _ := f.TeamMembership("acme", "devs", "ann"); m.State != "pending" {
		t.Fatalf("team membership of a pending member: %+v", m)
	}
	if inv := f.Invitations("acme"); len(inv) != 1 || inv[0].Login != "ann" || len(inv[0].TeamIDs) != 1 {
		t.Fatalf("invitations %+v", inv)
	}
	if n := f.AcceptInvitation("", "ann"); n != 1 {
		t.Fatalf("accepted %d", n)
	}
	if got := f.Members("acme"); !slices.Equal(got, []string{"ann member active"}) {
		t.Fatalf("members %v", got)
	}
	if got := f.TeamMembers("acme", "devs"); !slices.Equal(got, []string{"ann maintainer active"}) {
		t.Fatalf("team members %v", got)
	}
	if s, _, body := c.do("PUT", "orgs/acme/memberships/ann", map[string]string{"role": "admin"}); s != 200 || field(body, "role") != "admin" || field(body, "state") != "active" {
		t.Fatalf("promote: %d %v", s, body)
	}
	if s, _, _ := c.do("PUT", "orgs/acme/memberships/ann", map[string]string{"role": "owner"}); s != 422 {
		t.Fatalf("bad role: %d", s)
	}
	if s, _, _ := c.do("PUT", "orgs/acme/memberships/nobody", map[string]string{"role": "member"}); s != 404 {
		t.Fatalf("unknown user: %d", s)
	}
	if s, _, _ := c.do("DELETE", "orgs/acme/memberships/ann", nil); s != 204 {
		t.Fatalf("remove: %d", s)
	}
	if len(f.Members("acme")) != 0 || len(f.TeamMembers("acme", "devs")) != 0 {
		t.Fatal("removing from the org left memberships")
	}
	if s, _, _ := c.do("DELETE", "orgs/acme/memberships/ann", nil); s != 404 {
		t.Fatalf("remove again: %d", s)
	}
}

func TestTeams(t *testing.T) {
	t.Parallel()
	f, c, _ := setup(t)
	id := f.AddTeam("acme", "devs")
	f.AddTeam("acme", "synced")
	f.SetExternallyManaged("acme", "synced", true)
	f.SetMember("acme", "bob", "member")
	if s, _, body := c.do("GET", "orgs/acme/teams/devs", nil); s != 200 || field(body, "id") != float64(id) || field(body, "slug") != "devs" {
		t.Fatalf("team: %d %v", s, body)
	}
	tests := []struct {
		method, path string
		body         any
		want         int
	}{
		{"GET", "orgs/acme/teams/nope", nil, 404},
		{"GET", "orgs/acme/teams/devs/memberships/bob", nil, 404},
		{"PUT", "orgs/acme/teams/devs/memberships/bob", map[string]string{"role": "member"}, 200},
		{"GET", "orgs/acme/teams/devs/memberships/bob", nil, 200},
		{"PUT", "orgs/acme/teams/devs/memberships/bob", map[string]string{"role": "admin"}, 422},
		{"PUT", "orgs/acme/teams/synced/memberships/bob", map[string]string{"role": "member"}, 403},
		{"DELETE", "orgs/acme/teams/devs/memberships/bob", nil, 204},
		{"DELETE", "orgs/acme/teams/devs/memberships/bob", nil, 404},
	}
	for _, tc := range tests {
		if s, _, body := c.do(tc.method, tc.path, tc.body); s != tc.want {
			t.Errorf("%s %s: %d %v, want %d", tc.method, tc.path, s, body, tc.want)
		}
	}
	if got := f.Members("acme"); !slices.Equal(got, []string{"bob member active"}) {
		t.Fatalf("org members changed: %v", got)
	}
}

func TestInvitationsByEmail(t *testing.T) {
	t.Parallel()
	f, c, _ := setup(t)
	devs, ops := f.AddTeam("acme", "devs"), f.AddTeam("acme", "ops")
	f.AddOrg("other")
	other := f.AddTeam("other", "x")
	for i := range 7 {
		if s, _, _ := c.do("POST", "orgs/acme/invitations", map[string]any{"email": fmt.Sprintf("p%d@example.com", i)}); s != 201 {
			t.Fatalf("invite %d: %d", i, s)
		}
	}
	s, _, body := c.do("POST", "orgs/acme/invitations", map[string]any{"email": "Cid@Example.com", "role": "admin", "team_ids": []int64{devs, ops}})
	if s != 201 || field(body, "email") != "cid@example.com" || field(body, "role") != "admin" || field(body, "team_count") != float64(2) || field(body, "login") != nil {
		t.Fatalf("invite: %d %v", s, body)
	}
	invID := int64(field(body, "id").(float64))
	for _, tc := range []struct {
		body any
		want int
	}{
		{map[string]any{"email": "cid@example.com"}, 422},                           // already invited
		{map[string]any{"email": "x@example.com", "role": "owner"}, 422},            // bad role
		{map[string]any{"email": "x@example.com", "team_ids": []int64{other}}, 422}, // another org's team
		{map[string]any{"role": "admin"}, 422},                                      // nobody
	} {
		if s, _, b := c.do("POST", "orgs/acme/invitations", tc.body); s != tc.want {
			t.Errorf("%v: %d %v, want %d", tc.body, s, b, tc.want)
		}
	}
	// Pagination: 8 invitations, 3 per page, Link headers to the end.
	var emails []string
	next := "orgs/acme/invitations?per_page=3"
	for pages := 0; next != ""; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		s, h, body := c.do("GET", next, nil)
		if s != 200 {
			t.Fatalf("list: %d", s)
		}
		for _, it := range body.([]any) {
			emails = append(emails, field(it, "email").(string))
		}
		next = ""
		for part := range strings.SplitSeq(h.Get("Link"), ",") {
			if strings.Contains(part, `rel="next"`) {
				u := strings.Trim(strings.TrimSpace(strings.Split(part, ";")[0]), "<>")
				next = strings.TrimPrefix(u, c.base)
			}
		}
	}
	if len(emails) != 8 || emails[7] != "cid@example.com" {
		t.Fatalf("listed %v", emails)
	}
	s, _, body = c.do("GET", fmt.Sprintf("orgs/acme/invitations/%d/teams", invID), nil)
	if s != 200 || len(body.([]any)) != 2 {
		t.Fatalf("invitation teams: %d %v", s, body)
	}
	if n := f.AcceptInvitation("cid@example.com", "cid"); n != 1 {
		t.Fatalf("accepted %d", n)
	}
	if m, ok := f.OrgMembership("acme", "cid"); !ok || m.Role != "admin" || m.State != "active" {
		t.Fatalf("after accepting: %+v", m)
	}
	if got := f.TeamMembers("acme", "ops"); !slices.Equal(got, []string{"cid member active"}) {
		t.Fatalf("ops %v", got)
	}
	first := f.Invitations("acme")[0].ID
	if s, _, _ := c.do("DELETE", fmt.Sprintf("orgs/acme/invitations/%d", first), nil); s != 204 {
		t.Fatalf("cancel: %d", s)
	}
	if s, _, _ := c.do("DELETE", fmt.Sprintf("orgs/acme/invitations/%d", first), nil); s != 404 {
		t.Fatalf("cancel again: %d", s)
	}
	if len(f.Invitations("acme")) != 6 {
		t.Fatalf("invitations left %d", len(f.Invitations("acme")))
	}
	// An email belonging to a member is refused.
	f.AddUser("dan", "dan@example.com")
	f.SetMember("acme", "dan", "member")
	if s, _, _ := c.do("POST", "orgs/acme/invitations", map[string]any{"email": "dan@example.com"}); s != 422 {
		t.Fatalf("inviting a member: %d", s)
	}
}

func jwt(t *testing.T, key *rsa.PrivateKey, iss string, iat, exp time.Time) string {
	t.Helper()
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signing := enc(map[string]string{"alg": "RS256", "typ": "JWT"}) + "." + enc(map[string]any{"iss": iss, "iat": iat.Unix(), "exp": exp.Unix()})
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestInstallationTokens(t *testing.T) {
	t.Parallel()
	f, c, _ := setup(t)
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	wrong, _ := rsa.GenerateKey(rand.Reader, 2048)
	f.AddApp(42, 7, &key.PublicKey)
	now := time.Now()
	good := jwt(t, key, "42", now.Add(-30*time.Second), now.Add(2*time.Minute))
	tests := []struct {
		name, inst, auth string
		want             int
	}{
		{"valid JWT", "7", "Bearer " + good, 201},
		{"wrong key", "7", "Bearer " + jwt(t, wrong, "42", now, now.Add(time.Minute)), 401},
		{"wrong issuer", "7", "Bearer " + jwt(t, key, "43", now, now.Add(time.Minute)), 401},
		{"expired", "7", "Bearer " + jwt(t, key, "42", now.Add(-20*time.Minute), now.Add(-11*time.Minute)), 401},
		{"too long-lived", "7", "Bearer " + jwt(t, key, "42", now, now.Add(time.Hour)), 401},
		{"not a JWT", "7", "Bearer t0k", 401},
		{"unknown installation", "8", "Bearer " + good, 404},
	}
	var token string
	for _, tc := range tests {
		c := &client{t: t, base: c.base, auth: tc.auth}
		s, _, body := c.do("POST", "app/installations/"+tc.inst+"/access_tokens", nil)
		if s != tc.want {
			t.Errorf("%s: %d %v, want %d", tc.name, s, body, tc.want)
		}
		if s == 201 {
			token = field(body, "token").(string)
			if exp, err := time.Parse(time.RFC3339, field(body, "expires_at").(string)); err != nil || exp.Before(now.Add(59*time.Minute)) {
				t.Errorf("expires_at %v", field(body, "expires_at"))
			}
		}
	}
	user := &client{t: t, base: c.base, auth: "token " + token}
	if s, _, _ := user.do("GET", "orgs/acme", nil); s != 200 {
		t.Fatalf("installation token refused: %d", s)
	}
	if f.TokensMinted() != 1 {
		t.Fatalf("minted %d", f.TokensMinted())
	}
	// A token that expires the moment it is minted: no wait for the clock.
	f.SetTokenTTL(0)
	c2 := &client{t: t, base: c.base, auth: "Bearer " + good}
	_, _, body := c2.do("POST", "app/installations/7/access_tokens", nil)
	short := &client{t: t, base: c.base, auth: "token " + field(body, "token").(string)}
	if s, _, _ := short.do("GET", "orgs/acme", nil); s != 401 {
		t.Fatalf("expired installation token: %d", s)
	}
}

func TestRateLimits(t *testing.T) {
	t.Parallel()
	f, c, _ := setup(t)
	f.SecondaryLimitNext(1, "PUT", "orgs/acme/memberships/", 3*time.Second)
	s, h, body := c.do("PUT", "orgs/acme/memberships/ann", nil)
	if s != 403 || h.Get("Retry-After") != "3" || h.Get("X-RateLimit-Remaining") == "0" || field(body, "documentation_url") != githubfake.SecondaryDocsURL {
		t.Fatalf("secondary limit: %d %v %v", s, h, body)
	}
	if s, _, _ := c.do("PUT", "orgs/acme/memberships/ann", nil); s != 200 {
		t.Fatalf("after the secondary limit: %d", s)
	}
	f.Faults().RateLimit(2, time.Hour)
	for i := range 2 {
		if s, h, _ := c.do("GET", "orgs/acme", nil); s != 200 || h.Get("X-RateLimit-Remaining") != fmt.Sprint(1-i) {
			t.Fatalf("request %d: %d remaining %q", i, s, h.Get("X-RateLimit-Remaining"))
		}
	}
	if s, h, _ := c.do("GET", "orgs/acme", nil); s != 403 || h.Get("X-RateLimit-Remaining") != "0" || h.Get("X-RateLimit-Reset") == "" {
		t.Fatalf("over the primary limit: %d %v", s, h)
	}
}

func TestManagementAPI(t *testing.T) {
	t.Parallel()
	f, _, srv := setup(t)
	post := func(path, body string) map[string]any {
		resp, err := http.Post(srv.URL+"/_fake/"+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %v", path, resp.StatusCode, out)
		}
		return out
	}
	post("orgs", `{"name":"beta"}`)
	id := post("teams", `{"org":"beta","slug":"devs"}`)["id"].(float64)
	post("users", `{"login":"eve","email":"eve@example.com"}`)
	post("members", `{"org":"beta","login":"eve","role":"admin"}`)
	if int64(id) != f.TeamID("beta", "devs") {
		t.Fatalf("team id %v", id)
	}
	resp, err := http.Get(srv.URL + "/_fake/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st map[string]githubfake.OrgState
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	if m := st["beta"].Members; len(m) != 1 || m[0].Login != "eve" || m[0].Role != "admin" {
		t.Fatalf("state %+v", st["beta"])
	}
	if f.Faults().Writes() != 0 {
		t.Fatalf("management calls counted as API writes: %d", f.Faults().Writes())
	}
}
