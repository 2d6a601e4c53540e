package oktafake

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/idsync/idsync/pkg/fakehttp"
)

// The user lifecycle through the Management API, as an admin or a script
// changes users in Okta. Each change is recorded in the System Log with the
// event types Okta logs (and sends to event hooks), so that what the API
// does can be read back from GET /api/v1/logs. AddUser, SetStatus and
// DeleteUser are the test's own hand on the org and log nothing.

// createUser is POST /api/v1/users[?activate=false]: the user is created
// (user.lifecycle.create) and, unless activate=false, activated
// (user.lifecycle.activate).
func (f *Fake) createUser(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Profile Profile `json:"profile"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Profile.Login == "" {
		fakehttp.WriteError(w, fakehttp.Okta, http.StatusBadRequest, "Api validation failed: login")
		return
	}
	activate := r.URL.Query().Get("activate") != "false"
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.user(body.Profile.Login) != nil {
		fakehttp.WriteError(w, fakehttp.Okta, http.StatusBadRequest, "Api validation failed: login: An object with this field already exists in the current organization")
		return
	}
	if body.Profile.Email == "" {
		body.Profile.Email = body.Profile.Login
	}
	u := &User{ID: newID("00u"), Status: "STAGED", Created: time.Now().UTC().Format(time.RFC3339), Profile: body.Profile}
	f.users[u.ID] = u
	f.recordUser("user.lifecycle.create", "Create Okta user", u)
	if activate {
		u.Status = "ACTIVE"
		f.recordUser("user.lifecycle.activate", "Activate Okta user", u)
	}
	writeJSON(w, http.StatusOK, *u)
}

// lifecycleUser finds the path's user; the caller holds f.mu.
func (f *Fake) lifecycleUser(w http.ResponseWriter, r *http.Request) *User {
	u := f.user(r.PathValue("id"))
	if u == nil {
		notFound(w, r.PathValue("id")+" (User)")
	}
	return u
}

// activateUser is POST /api/v1/users/{id}/lifecycle/activate.
func (f *Fake) activateUser(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.lifecycleUser(w, r)
	if u == nil {
		return
	}
	if u.Status == "ACTIVE" {
		fakehttp.WriteError(w, fakehttp.Okta, http.StatusForbidden, "Activation failed because the user is already active")
		return
	}
	u.Status = "ACTIVE"
	f.recordUser("user.lifecycle.activate", "Activate Okta user", u)
	writeJSON(w, http.StatusOK, map[string]any{})
}

// deactivateUser is POST /api/v1/users/{id}/lifecycle/deactivate; a user
// already deactivated stays so and nothing is logged.
func (f *Fake) deactivateUser(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.lifecycleUser(w, r)
	if u == nil {
		return
	}
	f.deactivate(u)
	writeJSON(w, http.StatusOK, map[string]any{})
}

func (f *Fake) deactivate(u *User) {
	if u.Status != "DEPROVISIONED" {
		u.Status = "DEPROVISIONED"
		f.recordUser("user.lifecycle.deactivate", "Deactivate Okta user", u)
	}
}

// deleteUser is DELETE /api/v1/users/{id} as Okta does it: the first call
// on a user not yet deactivated deactivates them; on a deactivated user it
// deletes them for good (user.lifecycle.delete.initiated), from every group.
func (f *Fake) deleteUser(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.lifecycleUser(w, r)
	if u == nil {
		return
	}
	if !strings.EqualFold(u.Status, "DEPROVISIONED") {
		f.deactivate(u)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	f.recordUser("user.lifecycle.delete.initiated", "Delete Okta user", u)
	delete(f.users, u.ID)
	for _, m := range f.members {
		delete(m, u.ID)
	}
	w.WriteHeader(http.StatusNoContent)
}
