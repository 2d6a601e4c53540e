package gitlabfake

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/idsync/idsync/pkg/fakehttp"
)

const apiPrefix = "/api/v4/"

// serve authenticates and routes a request.
func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	if !f.authorized(r) {
		writeMessage(w, http.StatusUnauthorized, "401 Unauthorized")
		return
	}
	p := r.URL.EscapedPath()
	i := strings.Index(p, apiPrefix)
	if i < 0 {
		writeMessage(w, http.StatusNotFound, "404 Not Found")
		return
	}
	var seg []string
	for _, s := range strings.Split(strings.Trim(p[i+len(apiPrefix):], "/"), "/") {
		u, err := url.PathUnescape(s)
		if err != nil {
			writeMessage(w, http.StatusBadRequest, "400 Bad request - malformed path")
			return
		}
		seg = append(seg, u)
	}
	route := r.Method + " " + shape(seg)
	switch route {
	case "GET users":
		f.listUsers(w, r)
	case "POST users":
		f.createUser(w, r)
	case "GET users/:id":
		f.withUser(w, seg[1], f.getUser)
	case "DELETE users/:id":
		f.withUser(w, seg[1], f.deleteUser)
	case "POST users/:id/block", "POST users/:id/unblock", "POST users/:id/deactivate", "POST users/:id/activate":
		f.withUser(w, seg[1], func(w http.ResponseWriter, u *User) { f.moderate(w, u, seg[2]) })
	case "GET groups/:id":
		f.withGroup(w, seg[1], f.getGroup)
	case "GET groups/:id/members":
		f.withGroup(w, seg[1], func(w http.ResponseWriter, g *Group) { f.listMembers(w, r, g) })
	case "POST groups/:id/members":
		f.withGroup(w, seg[1], func(w http.ResponseWriter, g *Group) { f.addMember(w, r, g) })
	case "GET groups/:id/members/:id", "PUT groups/:id/members/:id", "DELETE groups/:id/members/:id":
		f.withGroup(w, seg[1], func(w http.ResponseWriter, g *Group) { f.member(w, r, g, seg[3]) })
	case "GET groups/:id/members/all/:id":
		f.withGroup(w, seg[1], func(w http.ResponseWriter, g *Group) { f.effectiveMember(w, g, seg[4]) })
	default:
		writeMessage(w, http.StatusNotFound, "404 Not Found")
	}
}

// shape replaces the variable segments of a path (ids, group paths) by :id.
func shape(seg []string) string {
	out := make([]string, len(seg))
	for i, s := range seg {
		out[i] = s
		if i == 1 || (i == 3 && seg[0] == "groups" && s != "all") || i == 4 {
			out[i] = ":id"
		}
	}
	return strings.Join(out, "/")
}

func (f *Fake) authorized(r *http.Request) bool {
	tok := r.Header.Get("PRIVATE-TOKEN")
	if tok == "" {
		tok, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	ok := 0
	for t := range f.tokens {
		ok |= subtle.ConstantTimeCompare([]byte(t), []byte(tok))
	}
	return tok != "" && ok == 1
}

// withUser runs h with the user named by a path segment, or answers 404.
func (f *Fake) withUser(w http.ResponseWriter, id string, h func(http.ResponseWriter, *User)) {
	n, err := strconv.ParseInt(id, 10, 64)
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.users[n]
	if err != nil || u == nil {
		writeMessage(w, http.StatusNotFound, "404 User Not Found")
		return
	}
	h(w, u)
}

// withGroup runs h with the group named by a numeric id or a full path.
func (f *Fake) withGroup(w http.ResponseWriter, id string, h func(http.ResponseWriter, *Group)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var g *Group
	if n, err := strconv.ParseInt(id, 10, 64); err == nil {
		g = f.groups[n]
	} else {
		g = f.groupByPath(id)
	}
	if g == nil {
		writeMessage(w, http.StatusNotFound, "404 Group Not Found")
		return
	}
	h(w, g)
}

// params reads a JSON or form body into strings (json.Number for numbers).
func params(r *http.Request) (map[string]string, error) {
	out := map[string]string{}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var m map[string]any
		dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			return nil, err
		}
		for k, v := range m {
			if v != nil {
				out[k] = fmt.Sprint(v)
			}
		}
		return out, nil
	}
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	for k := range r.Form {
		out[k] = r.Form.Get(k)
	}
	return out, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeMessage writes GitLab's error body: {"message": ...}, where the
// message is a string or, for validation errors, a map of field → reasons.
func writeMessage(w http.ResponseWriter, status int, msg any) {
	writeJSON(w, status, map[string]any{"message": msg})
}

// writePage writes one page of items with GitLab's pagination headers.
func writePage[T any](w http.ResponseWriter, r *http.Request, items []T) {
	page, per := fakehttp.PageParams(r.URL.Query(), 20, 100)
	chunk, pages := fakehttp.Slice(items, page, per)
	h := w.Header()
	h.Set("X-Page", strconv.Itoa(page))
	h.Set("X-Per-Page", strconv.Itoa(per))
	h.Set("X-Total", strconv.Itoa(len(items)))
	h.Set("X-Total-Pages", strconv.Itoa(pages))
	h.Set("X-Next-Page", "")
	h.Set("X-Prev-Page", "")
	if page < pages {
		h.Set("X-Next-Page", strconv.Itoa(page+1))
	}
	if page > 1 {
		h.Set("X-Prev-Page", strconv.Itoa(min(page-1, pages)))
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	h.Set("Link", fakehttp.LinkHeader(r, scheme+"://"+r.Host, page, pages))
	writeJSON(w, http.StatusOK, chunk)
}
