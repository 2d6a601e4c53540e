package oktafake

import (
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/idsync/idsync/pkg/fakehttp"
)

// SetStatus sets a user's status (by id or login) as an admin would by hand
// or through a lifecycle operation: ACTIVE, SUSPENDED, DEPROVISIONED…
// It reports whether the user exists.
func (f *Fake) SetStatus(idOrLogin, status string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.user(idOrLogin)
	if u == nil {
		return false
	}
	u.Status = status
	return true
}

// DeleteUser deletes a user (by id or login) for good, as Okta's second
// DELETE does: the user is gone from every listing and every group. It
// reports whether the user existed.
func (f *Fake) DeleteUser(idOrLogin string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.user(idOrLogin)
	if u == nil {
		return false
	}
	delete(f.users, u.ID)
	for _, m := range f.members {
		delete(m, u.ID)
	}
	return true
}

// RemoveMember takes a user out of a group (as an admin would by hand).
func (f *Fake) RemoveMember(groupID, userID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.members[groupID], userID)
}

// listUsers is GET /api/v1/users as Okta answers it: without a filter or
// search, every user but the DEPROVISIONED ones; with filter (or search)
// `status eq "S"` clauses joined by "or", the users with those statuses,
// DEPROVISIONED included. Sorted by id and paged with Link headers.
func (f *Fake) listUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	expr := q.Get("filter")
	if expr == "" {
		expr = q.Get("search")
	}
	match := func(u *User) bool { return u.Status != "DEPROVISIONED" }
	if expr != "" {
		statuses, ok := statusFilter(expr)
		if !ok {
			fakehttp.WriteError(w, fakehttp.Okta, http.StatusBadRequest, "Invalid search criteria.")
			return
		}
		match = func(u *User) bool { return statuses[u.Status] }
	}
	f.mu.Lock()
	var out []User
	for _, u := range f.users {
		if match(u) {
			out = append(out, *u)
		}
	}
	f.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	page(f, w, r, nonNil(out))
}

// statusFilter reads `status eq "A" or status eq "B"`, the only filter
// idsync sends to the users listing.
func statusFilter(expr string) (map[string]bool, bool) {
	out := map[string]bool{}
	for _, clause := range strings.Split(expr, " or ") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(clause), "status eq ")
		if !ok {
			return nil, false
		}
		s, err := strconv.Unquote(rest)
		if err != nil {
			return nil, false
		}
		out[strings.ToUpper(s)] = true
	}
	return out, true
}
