package gitlabfake

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// groupJSON is GitLab's group representation.
type groupJSON struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	Path       string `json:"path"`
	FullPath   string `json:"full_path"`
	FullName   string `json:"full_name"`
	ParentID   *int64 `json:"parent_id"`
	Visibility string `json:"visibility"`
	WebURL     string `json:"web_url"`
}

func (f *Fake) getGroup(w http.ResponseWriter, g *Group) {
	out := groupJSON{
		ID: g.ID, Name: g.Name, Path: g.Name, FullPath: g.FullPath, Visibility: "private",
		FullName: strings.ReplaceAll(g.FullPath, "/", " / "), WebURL: "https://gitlab.example.com/groups/" + g.FullPath,
	}
	if g.ParentID != 0 {
		out.ParentID = &g.ParentID
	}
	writeJSON(w, http.StatusOK, out)
}

// memberJSON is GitLab's member representation.
type memberJSON struct {
	ID              int64      `json:"id"`
	Username        string     `json:"username"`
	Name            string     `json:"name"`
	State           string     `json:"state"`
	AvatarURL       string     `json:"avatar_url"`
	WebURL          string     `json:"web_url"`
	AccessLevel     int        `json:"access_level"`
	CreatedAt       time.Time  `json:"created_at"`
	ExpiresAt       *string    `json:"expires_at"`
	MembershipState string     `json:"membership_state"`
	CreatedBy       *createdBy `json:"created_by,omitempty"`
}

type createdBy struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
}

func (f *Fake) memberJSON(uid int64, level int) memberJSON {
	u := f.users[uid]
	if u == nil {
		u = &User{Username: "ghost", Name: "Ghost User", State: StateBlocked}
	}
	return memberJSON{
		ID: uid, Username: u.Username, Name: u.Name, State: u.State, WebURL: "https://gitlab.example.com/" + u.Username,
		AccessLevel: level, CreatedAt: f.now().UTC(), MembershipState: "active",
	}
}

var levels = []int{Guest, Planner, Reporter, Developer, Maintainer, Owner}

var levelNames = map[int]string{Guest: "Guest", Planner: "Planner", Reporter: "Reporter", Developer: "Developer", Maintainer: "Maintainer", Owner: "Owner"}

// level validates access_level against the group's inherited memberships:
// GitLab refuses a direct membership below what the user inherits.
func (f *Fake) level(w http.ResponseWriter, g *Group, uid int64, raw string) (int, bool) {
	l, err := strconv.Atoi(raw)
	if err != nil || !slices.Contains(levels, l) {
		writeMessage(w, http.StatusBadRequest, map[string][]string{"access_level": {"is not included in the list"}})
		return 0, false
	}
	if in, from := f.inherited(g, uid); l < in {
		writeMessage(w, http.StatusBadRequest, map[string][]string{"access_level": {
			"should be greater than or equal to " + levelNames[in] + " inherited membership from group " + from.Name}})
		return 0, false
	}
	return l, true
}

// addMember is POST /groups/:id/members.
func (f *Fake) addMember(w http.ResponseWriter, r *http.Request, g *Group) {
	p, err := params(r)
	if err != nil {
		writeMessage(w, http.StatusBadRequest, "400 Bad request - "+err.Error())
		return
	}
	if p["user_id"] == "" && p["username"] == "" || p["access_level"] == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "user_id, username are missing, exactly one parameter must be provided; access_level is missing"})
		return
	}
	uid, _ := strconv.ParseInt(p["user_id"], 10, 64)
	if p["username"] != "" {
		for _, u := range f.users {
			if strings.EqualFold(u.Username, p["username"]) {
				uid = u.ID
			}
		}
	}
	if f.users[uid] == nil {
		writeMessage(w, http.StatusNotFound, "404 User Not Found")
		return
	}
	if _, ok := f.members[g.ID][uid]; ok {
		writeMessage(w, http.StatusConflict, "Member already exists")
		return
	}
	l, ok := f.level(w, g, uid, p["access_level"])
	if !ok {
		return
	}
	if f.members[g.ID] == nil {
		f.members[g.ID] = map[int64]int{}
	}
	f.members[g.ID][uid] = l
	writeJSON(w, http.StatusCreated, f.memberJSON(uid, l))
}

// member is GET, PUT and DELETE /groups/:id/members/:user_id: direct
// members only (404 otherwise, even for inherited members).
func (f *Fake) member(w http.ResponseWriter, r *http.Request, g *Group, rawUID string) {
	uid, _ := strconv.ParseInt(rawUID, 10, 64)
	cur, ok := f.members[g.ID][uid]
	if !ok {
		writeMessage(w, http.StatusNotFound, "404 Member Not Found")
		return
	}
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, f.memberJSON(uid, cur))
	case http.MethodPut:
		p, err := params(r)
		if err != nil {
			writeMessage(w, http.StatusBadRequest, "400 Bad request - "+err.Error())
			return
		}
		l, ok := f.level(w, g, uid, p["access_level"])
		if !ok {
			return
		}
		f.members[g.ID][uid] = l
		writeJSON(w, http.StatusOK, f.memberJSON(uid, l))
	case http.MethodDelete:
		if cur == Owner && g.ParentID == 0 && f.owners(g) == 1 {
			writeMessage(w, http.StatusForbidden, "403 Forbidden")
			return
		}
		delete(f.members[g.ID], uid)
		if r.URL.Query().Get("skip_subresources") != "true" {
			for _, d := range f.descendants(g) {
				delete(f.members[d.ID], uid)
			}
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

func (f *Fake) owners(g *Group) int {
	n := 0
	for _, l := range f.members[g.ID] {
		if l == Owner {
			n++
		}
	}
	return n
}

// listMembers is GET /groups/:id/members: the group's DIRECT members
// (GitLab lists inherited ones only under /members/all), by user id,
// paginated like every GitLab listing (20 per page by default, at most 100).
func (f *Fake) listMembers(w http.ResponseWriter, r *http.Request, g *Group) {
	ids := make([]int64, 0, len(f.members[g.ID]))
	for uid := range f.members[g.ID] {
		ids = append(ids, uid)
	}
	slices.Sort(ids)
	out := make([]memberJSON, 0, len(ids))
	for _, uid := range ids {
		out = append(out, f.memberJSON(uid, f.members[g.ID][uid]))
	}
	writePage(w, r, out)
}

// effectiveMember is GET /groups/:id/members/all/:user_id: the highest of
// the direct and inherited memberships.
func (f *Fake) effectiveMember(w http.ResponseWriter, g *Group, rawUID string) {
	uid, _ := strconv.ParseInt(rawUID, 10, 64)
	l := f.members[g.ID][uid]
	if in, _ := f.inherited(g, uid); in > l {
		l = in
	}
	if l == 0 || f.users[uid] == nil {
		writeMessage(w, http.StatusNotFound, "404 Member Not Found")
		return
	}
	writeJSON(w, http.StatusOK, f.memberJSON(uid, l))
}
