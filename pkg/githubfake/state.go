package githubfake

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Membership is an organization or team membership.
type Membership struct {
	Login string `json:"login"`
	Role  string `json:"role"`
	State string `json:"state"`
}

// Invitation is a pending organization invitation.
type Invitation struct {
	ID      int64   `json:"id"`
	Email   string  `json:"email,omitempty"`
	Login   string  `json:"login,omitempty"`
	Role    string  `json:"role"`
	TeamIDs []int64 `json:"team_ids,omitempty"`
}

// OrgMembership returns login's membership of the organization.
func (f *Fake) OrgMembership(orgName, login string) (Membership, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o := f.orgs[strings.ToLower(orgName)]
	if o == nil || o.members[strings.ToLower(login)] == nil {
		return Membership{}, false
	}
	m := o.members[strings.ToLower(login)]
	return Membership{Login: m.login, Role: m.role, State: m.state}, true
}

// TeamMembership returns login's membership of the team.
func (f *Fake) TeamMembership(orgName, slug, login string) (Membership, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o := f.orgs[strings.ToLower(orgName)]
	if o == nil || o.teams[slug] == nil || o.teams[slug].members[strings.ToLower(login)] == nil {
		return Membership{}, false
	}
	m := o.teams[slug].members[strings.ToLower(login)]
	return Membership{Login: m.login, Role: m.role, State: m.state}, true
}

// Members lists the organization's members as "login role state", sorted.
func (f *Fake) Members(orgName string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	o := f.orgs[strings.ToLower(orgName)]
	if o == nil {
		return nil
	}
	return describe(o.members)
}

// TeamMembers lists the team's members as "login role state", sorted.
func (f *Fake) TeamMembers(orgName, slug string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	o := f.orgs[strings.ToLower(orgName)]
	if o == nil || o.teams[slug] == nil {
		return nil
	}
	return describe(o.teams[slug].members)
}

func describe(ms map[string]*membership) []string {
	var out []string
	for _, m := range ms {
		out = append(out, fmt.Sprintf("%s %s %s", m.login, m.role, m.state))
	}
	sort.Strings(out)
	return out
}

// TeamID returns the id of a team (0 when there is none).
func (f *Fake) TeamID(orgName, slug string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if o := f.orgs[strings.ToLower(orgName)]; o != nil && o.teams[slug] != nil {
		return o.teams[slug].id
	}
	return 0
}

// Invitations lists the organization's pending invitations by id.
func (f *Fake) Invitations(orgName string) []Invitation {
	f.mu.Lock()
	defer f.mu.Unlock()
	o := f.orgs[strings.ToLower(orgName)]
	if o == nil {
		return nil
	}
	var out []Invitation
	for _, inv := range o.sortedInvitations() {
		out = append(out, Invitation{ID: inv.id, Email: inv.email, Login: inv.login, Role: inv.role, TeamIDs: slices.Clone(inv.teamIDs)})
	}
	return out
}

// OrgState is an organization's whole state, as the management API shows it.
type OrgState struct {
	Members     []Membership         `json:"members"`
	Teams       map[string]TeamState `json:"teams"`
	Invitations []Invitation         `json:"invitations"`
}

// TeamState is a team's state.
type TeamState struct {
	ID      int64        `json:"id"`
	Members []Membership `json:"members"`
}

func memberships(ms map[string]*membership) []Membership {
	out := []Membership{}
	for _, m := range ms {
		out = append(out, Membership{Login: m.login, Role: m.role, State: m.state})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Login < out[j].Login })
	return out
}

// Snapshot returns every organization's state by name.
func (f *Fake) Snapshot() map[string]OrgState {
	f.mu.Lock()
	names := make([]string, 0, len(f.orgs))
	for _, o := range f.orgs {
		names = append(names, o.name)
	}
	f.mu.Unlock()
	out := map[string]OrgState{}
	for _, n := range names {
		f.mu.Lock()
		o := f.orgs[strings.ToLower(n)]
		st := OrgState{Members: memberships(o.members), Teams: map[string]TeamState{}}
		for slug, t := range o.teams {
			st.Teams[slug] = TeamState{ID: t.id, Members: memberships(t.members)}
		}
		f.mu.Unlock()
		st.Invitations = f.Invitations(n)
		out[n] = st
	}
	return out
}
