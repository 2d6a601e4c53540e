package gitlabfake

import (
	"cmp"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
)

// userJSON is GitLab's user representation as an administrator sees it.
type userJSON struct {
	ID             int64     `json:"id"`
	Username       string    `json:"username"`
	Name           string    `json:"name"`
	State          string    `json:"state"`
	Locked         bool      `json:"locked"`
	AvatarURL      string    `json:"avatar_url"`
	WebURL         string    `json:"web_url"`
	CreatedAt      time.Time `json:"created_at"`
	Email          string    `json:"email"`
	PublicEmail    string    `json:"public_email"`
	LastActivityOn *string   `json:"last_activity_on"`
	External       bool      `json:"external"`
	Bot            bool      `json:"bot"`
	IsAdmin        bool      `json:"is_admin"`
}

func (u *User) json() userJSON {
	out := userJSON{
		ID: u.ID, Username: u.Username, Name: u.Name, State: u.State, CreatedAt: u.CreatedAt,
		Email: u.Email, External: u.External, Bot: u.Bot, WebURL: "https://gitlab.example.com/" + u.Username,
	}
	if !u.LastActivity.IsZero() {
		d := u.LastActivity.UTC().Format(time.DateOnly)
		out.LastActivityOn = &d
	}
	return out
}

// listUsers is GET /users: username (exact, case-insensitive) and search
// (a substring of username, name or email, as GitLab's search can return
// near matches) filters, newest first (GitLab's default order, id
// descending) or oldest first with sort=asc, paginated.
func (f *Fake) listUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	username, search := q.Get("username"), strings.ToLower(q.Get("search"))
	active, blocked := q.Get("active") == "true", q.Get("blocked") == "true"
	f.mu.Lock()
	// Filter, then sort what matched: sorting every user for each call
	// made the fake's cost grow as N log N per lookup, ~40 % of the CPU of
	// the all-in-one's end-to-end benchmark (BENCHMARKS.md).
	var users []*User
	for _, u := range f.users {
		switch {
		case username != "" && !strings.EqualFold(u.Username, username):
		case search != "" && !strings.Contains(strings.ToLower(u.Username+"\x00"+u.Name+"\x00"+u.Email), search):
		case active && u.State != StateActive:
		case blocked && u.State != StateBlocked && u.State != StateLDAPBlocked:
		default:
			users = append(users, u)
		}
	}
	slices.SortFunc(users, func(a, b *User) int { return cmp.Compare(a.ID, b.ID) })
	if q.Get("sort") != "asc" {
		slices.Reverse(users)
	}
	var out []userJSON
	for _, u := range users {
		out = append(out, u.json())
	}
	f.mu.Unlock()
	if out == nil {
		out = []userJSON{}
	}
	writePage(w, r, out)
}

func (f *Fake) getUser(w http.ResponseWriter, u *User) { writeJSON(w, http.StatusOK, u.json()) }

// usernamePattern is GitLab's namespace path rule: letters, digits, '_',
// '-' and '.', not starting or ending with a special character, no
// consecutive special characters.
var usernamePattern = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9]|[._-][A-Za-z0-9])*$`)

// createUser is POST /users (administrators only in GitLab).
func (f *Fake) createUser(w http.ResponseWriter, r *http.Request) {
	p, err := params(r)
	if err != nil {
		writeMessage(w, http.StatusBadRequest, "400 Bad request - "+err.Error())
		return
	}
	var missing []string
	for _, k := range []string{"email", "username", "name"} {
		if p[k] == "" {
			missing = append(missing, k+" is missing")
		}
	}
	if p["password"] == "" && p["reset_password"] != "true" && p["force_random_password"] != "true" {
		missing = append(missing, "password, reset_password, force_random_password are missing, exactly one parameter must be provided")
	}
	if len(missing) > 0 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": strings.Join(missing, ", ")})
		return
	}
	if !usernamePattern.MatchString(p["username"]) || strings.HasSuffix(p["username"], ".git") || strings.HasSuffix(p["username"], ".atom") {
		writeMessage(w, http.StatusBadRequest, map[string][]string{"username": {"can contain only letters, digits, '_', '-' and '.'. It must not start or end with a special character and must not contain consecutive special characters."}})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, u := range f.users {
		if strings.EqualFold(u.Email, p["email"]) {
			writeMessage(w, http.StatusConflict, "Email has already been taken")
			return
		}
		if strings.EqualFold(u.Username, p["username"]) {
			writeMessage(w, http.StatusConflict, "Username has already been taken")
			return
		}
	}
	u := f.addUser(User{
		Email: p["email"], Username: p["username"], Name: p["name"], External: p["external"] == "true",
		SkipConfirmation: p["skip_confirmation"] == "true", ForceRandomPassword: p["force_random_password"] == "true",
		ResetPassword: p["reset_password"] == "true",
	})
	writeJSON(w, http.StatusCreated, u.json())
}

// moderate is POST /users/:id/{block,unblock,deactivate,activate}; GitLab
// answers 201 with the body true.
func (f *Fake) moderate(w http.ResponseWriter, u *User, action string) {
	forbid := func(reason string) { writeMessage(w, http.StatusForbidden, "403 Forbidden - "+reason) }
	switch action {
	case "block":
		if u.State == StateLDAPBlocked {
			forbid("LDAP blocked users cannot be modified by the API")
			return
		}
		u.State = StateBlocked
	case "unblock":
		switch u.State {
		case StateLDAPBlocked:
			forbid("LDAP blocked users cannot be unblocked by the API")
			return
		case StateDeactivated:
			forbid("Deactivated users cannot be unblocked by the API")
			return
		}
		u.State = StateActive
	case "deactivate":
		switch {
		case u.State == StateBlocked || u.State == StateLDAPBlocked:
			forbid("A blocked user cannot be deactivated by the API")
			return
		case u.State == StateDeactivated:
		case !u.LastActivity.IsZero() && f.now().Sub(u.LastActivity) < DeactivationInactivity:
			forbid("The user you are trying to deactivate has been active in the past 90 days and cannot be deactivated")
			return
		}
		u.State = StateDeactivated
	case "activate":
		if u.State == StateBlocked || u.State == StateLDAPBlocked {
			forbid("A blocked user must be unblocked to be activated")
			return
		}
		u.State = StateActive
	}
	writeJSON(w, http.StatusCreated, true)
}

// deleteUser is DELETE /users/:id: the user and their memberships go.
func (f *Fake) deleteUser(w http.ResponseWriter, u *User) {
	delete(f.users, u.ID)
	for _, ms := range f.members {
		delete(ms, u.ID)
	}
	w.WriteHeader(http.StatusNoContent)
}
