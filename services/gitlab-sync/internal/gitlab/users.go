package gitlab

import (
	"context"
	"errors"
	"strconv"
	"strings"

	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/idsync/idsync/pkg/errclass"
)

// User states GitLab reports.
const (
	StateActive      = "active"
	StateBlocked     = "blocked"
	StateLDAPBlocked = "ldap_blocked"
	StateDeactivated = "deactivated"
)

// User is a GitLab user.
type User struct {
	ID                    int64
	Username, Email, Name string
	State                 string
	// Bot marks group and project access tokens' users and service
	// accounts: machines, never offboarded or removed by reconciliation.
	Bot bool
}

// Key is the user's key in the ledger and in outcomes: the numeric id.
func (u User) Key() string { return strconv.FormatInt(u.ID, 10) }

// Blocked reports whether the user cannot sign in (blocked by an admin or by LDAP).
func (u User) Blocked() bool { return u.State == StateBlocked || u.State == StateLDAPBlocked }

func userOf(u *gl.User) User {
	return User{ID: u.ID, Username: u.Username, Email: u.Email, Name: u.Name, State: u.State, Bot: u.Bot}
}

const perPage = 100

// FindUser returns the user whose email (primary or public) is email,
// compared case-insensitively. GitLab's search also returns near matches
// (it matches names and usernames too), so every page is read and only an
// exact match counts. Seeing private emails needs an administrator token.
func (c *Client) FindUser(ctx context.Context, email string) (User, bool, error) {
	opt := &gl.ListUsersOptions{Search: gl.Ptr(email), ListOptions: gl.ListOptions{PerPage: perPage, Page: 1}}
	for {
		users, resp, err := c.gl.Users.ListUsers(opt, gl.WithContext(ctx))
		if err != nil {
			return User{}, false, classify("find user", resp, err)
		}
		for _, u := range users {
			if strings.EqualFold(u.Email, email) || strings.EqualFold(u.PublicEmail, email) {
				return userOf(u), true, nil
			}
		}
		if resp.NextPage == 0 {
			return User{}, false, nil
		}
		opt.Page = resp.NextPage
	}
}

// usernameTaken reports whether a username is in use (GitLab compares
// usernames case-insensitively).
func (c *Client) usernameTaken(ctx context.Context, username string) (bool, error) {
	users, resp, err := c.gl.Users.ListUsers(&gl.ListUsersOptions{Username: gl.Ptr(username)}, gl.WithContext(ctx))
	if err != nil {
		return false, classify("check username", resp, err)
	}
	return len(users) > 0, nil
}

// NewUser describes a user to create.
type NewUser struct {
	Email string
	// Name is the display name (GitLab requires one).
	Name string
	// External users see only what they are explicitly given.
	External bool
	// SkipConfirmation marks the email as confirmed.
	SkipConfirmation bool
	// ForceRandomPassword sets an unknown password (sign-in via SSO);
	// otherwise GitLab emails a password-reset link.
	ForceRandomPassword bool
}

// maxSuffix bounds the numeric suffixes tried for a taken username.
const maxSuffix = 100

// CreateUser creates a user named after the email's local part, with a
// numeric suffix when that username is taken. If the email turns out to be
// taken (another replica created the user meanwhile), that user is returned.
func (c *Client) CreateUser(ctx context.Context, nu NewUser) (User, error) {
	base := Username(nu.Email)
	for i := 1; i <= maxSuffix; i++ {
		name := base
		if i > 1 {
			name = base + strconv.Itoa(i)
		}
		taken, err := c.usernameTaken(ctx, name)
		if err != nil {
			return User{}, err
		}
		if taken {
			continue
		}
		opt := &gl.CreateUserOptions{
			Email: gl.Ptr(nu.Email), Username: gl.Ptr(name), Name: gl.Ptr(nu.Name),
			External: gl.Ptr(nu.External), SkipConfirmation: gl.Ptr(nu.SkipConfirmation),
		}
		if nu.ForceRandomPassword {
			opt.ForceRandomPassword = gl.Ptr(true)
		} else {
			opt.ResetPassword = gl.Ptr(true)
		}
		u, resp, err := c.gl.Users.CreateUser(opt, gl.WithContext(ctx))
		if err == nil {
			return userOf(u), nil
		}
		if resp == nil || resp.StatusCode != 409 {
			return User{}, classify("create user", resp, err)
		}
		if strings.Contains(strings.ToLower(apiMessage(409, err)), "email") {
			if u, found, ferr := c.FindUser(ctx, nu.Email); ferr != nil || found {
				return u, ferr
			}
			return User{}, errclass.AsPermanent(errors.New("gitlab: create user: 409 the email is taken (a secondary email of another user?)"))
		}
		// The username was taken between the check and the creation: next.
	}
	return User{}, errclass.AsPermanent(errors.New("gitlab: create user: no free username with the email's local part"))
}

// Username derives a GitLab username from an email's local part: lower
// case; letters, digits, '_', '-' and '.' only; no special character at
// either end or twice in a row; not ending in .git or .atom.
func Username(email string) string {
	local, _, _ := strings.Cut(strings.ToLower(email), "@")
	var b strings.Builder
	special := true // at the start, a special character is dropped
	for _, r := range local {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			special = false
		case !special:
			if r != '.' && r != '_' {
				r = '-'
			}
			b.WriteRune(r)
			special = true
		}
	}
	s := strings.TrimRight(b.String(), "._-")
	for _, suffix := range []string{".git", ".atom"} {
		s = strings.TrimSuffix(s, suffix)
	}
	s = strings.TrimRight(s, "._-")
	if len(s) > 60 {
		s = strings.TrimRight(s[:60], "._-")
	}
	if s == "" {
		s = "user"
	}
	return s
}

// BlockUser blocks a user: they cannot sign in; data and memberships stay.
func (c *Client) BlockUser(ctx context.Context, id int64) error {
	resp, err := c.gl.Users.BlockUser(id, gl.WithContext(ctx))
	return classify("block user", resp, err)
}

// UnblockUser unblocks a user blocked by an administrator.
func (c *Client) UnblockUser(ctx context.Context, id int64) error {
	resp, err := c.gl.Users.UnblockUser(id, gl.WithContext(ctx))
	return classify("unblock user", resp, err)
}

// DeactivateUser deactivates a user; GitLab refuses (ErrDeactivateRefused)
// when the user was active in the last 90 days.
func (c *Client) DeactivateUser(ctx context.Context, id int64) error {
	resp, err := c.gl.Users.DeactivateUser(id, gl.WithContext(ctx))
	if err != nil && resp != nil && resp.StatusCode == 403 {
		return errclass.AsPermanent(ErrDeactivateRefused)
	}
	return classify("deactivate user", resp, err)
}

// DeleteUser deletes a user (contributions move to the Ghost user).
func (c *Client) DeleteUser(ctx context.Context, id int64) error {
	resp, err := c.gl.Users.DeleteUser(id, gl.WithContext(ctx))
	return classify("delete user", resp, err)
}
