package okta

import (
	"context"
	"fmt"
	"strings"

	"github.com/okta/okta-sdk-golang/v6/okta"

	"github.com/idsync/idsync/pkg/errclass"
)

// Person is an Okta user as reconciliation reads it (named so as not to
// clash with the SDK's User).
type Person struct {
	ID    string
	Login string
	Email string
	// Status is Okta's: STAGED, PROVISIONED, ACTIVE, RECOVERY,
	// PASSWORD_EXPIRED, LOCKED_OUT, SUSPENDED or DEPROVISIONED.
	Status string
}

// Statuses of an Okta user.
const (
	StatusActive        = "ACTIVE"
	StatusDeprovisioned = "DEPROVISIONED"
)

// Page sizes: the largest each listing accepts (Okta answers a larger
// limit with its own maximum), so that a listing costs as few calls of the
// per-minute quota as it can.
const (
	usersPageSize   = 200
	membersPageSize = 1000
)

// maxPages bounds a listing, so that a provider answering a next link
// forever cannot hold a reconciliation for ever.
const maxPages = 100000

// Users lists every user of the org, every page, DEPROVISIONED included.
//
// Okta's plain listing leaves out DEPROVISIONED users, and only a search or
// filter returns them; a filter naming every status would miss a status
// Okta adds later. So it reads the plain listing (every status but
// DEPROVISIONED, whatever they are) and then the DEPROVISIONED users by
// filter (which, unlike search, is not read from an eventually consistent
// index). A user deactivated between the two reads is in both: the second,
// newer, record wins.
func (c *Client) Users(ctx context.Context) ([]Person, error) {
	byID := map[string]int{}
	var out []Person
	add := func(u okta.User) {
		p := person(u)
		if i, ok := byID[p.ID]; ok {
			out[i] = p
			return
		}
		byID[p.ID] = len(out)
		out = append(out, p)
	}
	list := func(filter string) error {
		return pages(ctx, c, "list users", func(after string) ([]okta.User, *okta.APIResponse, error) {
			req := c.api.UserAPI.ListUsers(ctx).Limit(usersPageSize)
			if filter != "" {
				req = req.Filter(filter)
			}
			if after != "" {
				req = req.After(after)
			}
			return req.Execute()
		}, func(u okta.User) bool { add(u); return true })
	}
	if err := list(""); err != nil {
		return nil, err
	}
	if err := list(`status eq "` + StatusDeprovisioned + `"`); err != nil {
		return nil, err
	}
	return out, nil
}

// GroupMembers lists every member of a group, every page. An unknown group
// is an error of class NotFound.
func (c *Client) GroupMembers(ctx context.Context, groupID string) ([]Person, error) {
	var out []Person
	err := pages(ctx, c, "list group users", func(after string) ([]okta.User, *okta.APIResponse, error) {
		req := c.api.GroupAPI.ListGroupUsers(ctx, groupID).Limit(membersPageSize)
		if after != "" {
			req = req.After(after)
		}
		return req.Execute()
	}, func(u okta.User) bool { out = append(out, person(u)); return true })
	return out, err
}

// pages reads a listing page by page until each returns false or the last
// page. Each page is its own SDK call with the cursor of the previous
// page's Link rel="next": the SDK's own Next() sends follow-up pages with
// the client's background context, which neither the caller's cancellation
// nor its trace (nor its call counter) would reach.
func pages[T any](ctx context.Context, c *Client, op string, call func(after string) ([]T, *okta.APIResponse, error), each func(T) bool) error {
	after := ""
	for range maxPages {
		if err := c.pacer.Check(); err != nil {
			if err := c.classify(op, nil, err); !waitQuota(ctx, err) {
				return err
			}
			continue
		}
		items, resp, err := call(after)
		if err := c.classify(op, resp, err); err != nil {
			if !waitQuota(ctx, err) {
				return err
			}
			continue
		}
		for _, it := range items {
			if !each(it) {
				return nil
			}
		}
		next, err := nextCursor(resp)
		if err != nil {
			return errclass.AsPermanent(fmt.Errorf("okta %s: %w", op, err))
		}
		if next == "" {
			return nil
		}
		if next == after {
			return errclass.AsPermanent(fmt.Errorf("okta %s: the next page's cursor repeats the current one", op))
		}
		after = next
	}
	return errclass.AsPermanent(fmt.Errorf("okta %s: more than %d pages", op, maxPages))
}

// nextCursor is the after= cursor of the response's Link rel="next" ("" on
// the last page), read by NextAfter rather than the SDK's NextPage (which
// panics on a malformed link).
func nextCursor(resp *okta.APIResponse) (string, error) {
	if resp == nil || resp.Response == nil {
		return "", nil
	}
	after, _, err := NextAfter(resp.Header)
	return after, err
}

func person(u okta.User) Person {
	p := u.GetProfile()
	return Person{ID: u.GetId(), Login: p.GetLogin(), Email: strings.TrimSpace(p.GetEmail()), Status: u.GetStatus()}
}

// User finds a user by login (or id), whatever their status. found is false
// for a user Okta does not have (deleted, or never created).
func (c *Client) User(ctx context.Context, login string) (Person, bool, error) {
	if err := c.pacer.Check(); err != nil {
		return Person{}, false, c.classify("get user", nil, err)
	}
	u, resp, err := c.api.UserAPI.GetUser(ctx, login).Execute()
	if err := c.classify("get user", resp, err); err != nil {
		if errclass.Of(err) == errclass.NotFound {
			return Person{}, false, nil
		}
		return Person{}, false, err
	}
	return person(okta.User{Id: u.Id, Status: u.Status, Profile: u.Profile}), true, nil
}
