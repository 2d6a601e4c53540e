package githubsync

import (
	"context"
	"strings"

	"github.com/idsync/idsync/pkg/identity"
)

// logins is the identity map as one scan reads it, both ways: a scan
// resolves every person of every company, and finds the people behind the
// members GitHub lists, so it reads the map once instead of once per person.
type logins struct {
	byEmail map[string]string   // lower-cased email → login
	byLogin map[string][]string // lower-cased login → emails
}

func readLogins(ctx context.Context, m *identity.Map) (logins, error) {
	entries, err := m.List(ctx)
	if err != nil {
		return logins{}, err
	}
	l := logins{byEmail: map[string]string{}, byLogin: map[string][]string{}}
	for _, e := range entries {
		email := strings.ToLower(strings.TrimSpace(e.Email))
		l.byEmail[email] = e.Login
		l.byLogin[strings.ToLower(e.Login)] = append(l.byLogin[strings.ToLower(e.Login)], email)
	}
	return l, nil
}

// userKey is the ledger's and the planner's key for a person: their login,
// or email:<address> when the map has none (they are invited by email).
func (l logins) userKey(email string) string {
	if login, ok := l.byEmail[strings.ToLower(strings.TrimSpace(email))]; ok {
		return login
	}
	return emailKey(email)
}

// emails are the addresses mapped to login (most people have one).
func (l logins) emails(login string) []string { return l.byLogin[strings.ToLower(login)] }

// email is the first address mapped to login, "" when none is.
func (l logins) email(login string) string {
	if es := l.emails(login); len(es) > 0 {
		return es[0]
	}
	return ""
}
