package console

import (
	"context"
	"sort"
	"strings"

	"github.com/idsync/idsync/pkg/access"
)

// UserAccess is a company user with their effective bindings: their own
// plus those of every group they are in (what EffectiveBindings returns for
// them).
type UserAccess struct {
	User     User
	Bindings access.Bindings
}

// CompanyAccess lists every user of a company with their effective
// bindings, from three full listings (users, user identities, group
// identities), every page, sorted by email then id.
//
// A listing of several pages is not a snapshot (see absentRereads): a
// person at a page boundary can be missed while others join or leave. A
// reconciliation that missed someone would take their access for gone and
// revoke it, so each listing that took several pages is read a second time
// with another page size, which puts the boundaries elsewhere, and the two
// are merged (the second read wins for someone in both). Someone who left
// between the reads may then still be listed: for a reconciliation that
// errs towards keeping access, and its apply re-reads before it acts.
func (c *Client) CompanyAccess(ctx context.Context, companyID string) ([]UserAccess, error) {
	users, err := twoReads(ctx, c, func(ctx context.Context, perPage int) ([]User, bool, error) {
		return c.sharedUsers(ctx, companyID, perPage)
	}, func(u User) string { return u.UserID })
	if err != nil {
		return nil, err
	}
	identities := func(identityType string) (map[string]Identity, error) {
		l, err := twoReads(ctx, c, func(ctx context.Context, perPage int) ([]Identity, bool, error) {
			return c.sharedIdentities(ctx, companyID, identityType, perPage)
		}, func(id Identity) string { return id.IdentityID })
		if err != nil {
			return nil, err
		}
		out := make(map[string]Identity, len(l))
		for _, id := range l {
			out[id.IdentityID] = id
		}
		return out, nil
	}
	own, err := identities("user")
	if err != nil {
		return nil, err
	}
	var groups map[string]Identity
	for _, u := range users {
		if len(u.Groups) > 0 {
			if groups, err = identities("group"); err != nil {
				return nil, err
			}
			break
		}
	}
	out := make([]UserAccess, 0, len(users))
	for _, u := range users {
		b := access.Bindings{CompanyRoles: append([]string(nil), u.CompanyRoles...)}
		if id, ok := own[u.UserID]; ok {
			b.Merge(id.Bindings())
		}
		for _, g := range u.Groups {
			if id, ok := groups[g]; ok {
				b.Merge(id.Bindings())
			}
		}
		out = append(out, UserAccess{User: u, Bindings: b})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := strings.ToLower(out[i].User.Email), strings.ToLower(out[j].User.Email)
		if a != b {
			return a < b
		}
		return out[i].User.UserID < out[j].User.UserID
	})
	return out, nil
}

// twoReads reads a listing and, when it took several pages, once more with
// another page size, and merges them by key (the second read wins). The
// shared listings' slices are not modified.
func twoReads[T any](ctx context.Context, c *Client, read func(ctx context.Context, perPage int) ([]T, bool, error), key func(T) string) ([]T, error) {
	first, paged, err := read(ctx, c.rereadSize(0))
	if err != nil || !paged {
		return append([]T(nil), first...), err
	}
	second, _, err := read(ctx, c.rereadSize(1))
	if err != nil {
		return nil, err
	}
	at := map[string]int{}
	var out []T
	for _, l := range [][]T{first, second} {
		for _, v := range l {
			k := key(v)
			if i, ok := at[k]; ok {
				out[i] = v
				continue
			}
			at[k] = len(out)
			out = append(out, v)
		}
	}
	return out, nil
}

// CompanyProjects lists the projects anyone in the company (a user or a
// group) is bound on, sorted: the Console API idsync uses has no project
// listing, so these are the projects a rule can apply to someone in. The
// identity listings are read as CompanyAccess reads them.
func (c *Client) CompanyProjects(ctx context.Context, companyID string) ([]string, error) {
	seen := map[string]bool{}
	for _, identityType := range []string{"user", "group"} {
		l, err := twoReads(ctx, c, func(ctx context.Context, perPage int) ([]Identity, bool, error) {
			return c.sharedIdentities(ctx, companyID, identityType, perPage)
		}, func(id Identity) string { return id.IdentityID })
		if err != nil {
			return nil, err
		}
		for _, id := range l {
			for _, p := range id.Projects {
				if p.ID != "" {
					seen[p.ID] = true
				}
			}
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out, nil
}

// CompanyUsers lists every user of a company, read as CompanyAccess reads
// them (a second listing with other page boundaries when the first took
// several pages, merged), sorted by email then id.
func (c *Client) CompanyUsers(ctx context.Context, companyID string) ([]User, error) {
	users, err := twoReads(ctx, c, func(ctx context.Context, perPage int) ([]User, bool, error) {
		return c.sharedUsers(ctx, companyID, perPage)
	}, func(u User) string { return u.UserID })
	if err != nil {
		return nil, err
	}
	sort.Slice(users, func(i, j int) bool {
		a, b := strings.ToLower(users[i].Email), strings.ToLower(users[j].Email)
		if a != b {
			return a < b
		}
		return users[i].UserID < users[j].UserID
	})
	return users, nil
}
