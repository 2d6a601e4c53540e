// Package identity maps people's email addresses to their GitHub logins.
//
// GitHub cannot be asked "which login has this email": its user search
// matches public profile emails only, and guessing from names has given one
// person another's access in peer tools. So github-sync resolves logins
// through an explicit identity map kept in the namespace's IDENTITIES NATS
// KV bucket, shared by every replica and surviving restarts.
//
// Design choice: the map is filled by the operator — a mapping file
// (IDSYNC_GITHUB_IDENTITY_FILE, CSV "email,login" or a YAML list of
// {email, login}) upserted at every start, and later the operator CLI
// (source "cli"). Two other sources were considered and left for later:
// an Okta profile attribute (e.g. github_username, not present in the
// lifecycle events idsync receives, so it would need an Okta API read per
// event) and the organization's SAML identities (GraphQL
// externalIdentities, GitHub Enterprise Cloud with SAML SSO only). Both can
// write into the same bucket with their own source without changing
// readers.
//
// Keys are "github.<hex of the first 24 bytes of SHA-256 of the lower-cased
// email>" (KV keys cannot hold '@', and hashing keeps addresses out of the
// key space); values are JSON {email, login, source, updated}. A person
// without an entry is unresolved: github-sync invites them by email or
// records a skipped outcome, never retries.
package identity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/idsync/idsync/pkg/errclass"
)

// KeyPrefix is the first token of every key this package writes.
const KeyPrefix = "github"

// Sources of entries.
const (
	SourceFile = "file"
	SourceCLI  = "cli"
)

// Entry is one mapping.
type Entry struct {
	Email   string    `json:"email"`
	Login   string    `json:"login"`
	Source  string    `json:"source"`
	Updated time.Time `json:"updated"`
}

// Map reads and writes the identity map.
type Map struct {
	kv  jetstream.KeyValue
	now func() time.Time
}

// Open wraps the identities bucket (bus.KeyValue with bus.BucketIdentities).
func Open(kv jetstream.KeyValue) *Map { return &Map{kv: kv, now: time.Now} }

// Key is the KV key of an email address.
func Key(email string) string {
	sum := sha256.Sum256([]byte(normalize(email)))
	return KeyPrefix + "." + hex.EncodeToString(sum[:24])
}

func normalize(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// loginPattern is GitHub's login syntax: letters, digits and single inner
// hyphens, at most 39 characters.
var loginPattern = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9]|-[A-Za-z0-9]){0,38}$`)

// ValidLogin reports whether s can be a GitHub login.
func ValidLogin(s string) bool { return loginPattern.MatchString(s) }

// ValidEmail reports whether s looks like an email address (one '@' with
// something on both sides, no blanks).
func ValidEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && domain != "" && !strings.ContainsAny(s, " \t\r\n,") && !strings.Contains(domain, "@")
}

// Resolve returns the login mapped to email; found is false when there is
// none. Errors are classified (KV trouble is retryable).
func (m *Map) Resolve(ctx context.Context, email string) (login string, found bool, err error) {
	e, found, err := m.Get(ctx, email)
	return e.Login, found, err
}

// Get returns the entry of email.
func (m *Map) Get(ctx context.Context, email string) (Entry, bool, error) {
	if normalize(email) == "" {
		return Entry{}, false, nil
	}
	kve, err := m.kv.Get(ctx, Key(email))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Entry{}, false, nil
	}
	if err != nil {
		return Entry{}, false, errclass.AsRetryable(fmt.Errorf("identity.Get: %w", err))
	}
	var e Entry
	if err := json.Unmarshal(kve.Value(), &e); err != nil || e.Login == "" {
		return Entry{}, false, errclass.AsPermanent(fmt.Errorf("identity.Get: corrupt entry %s", kve.Key()))
	}
	return e, true, nil
}

// Set maps email to login (upsert), recording where the mapping came from.
func (m *Map) Set(ctx context.Context, email, login, source string) error {
	email, login = normalize(email), strings.TrimSpace(login)
	if !ValidEmail(email) {
		return errclass.AsPermanent(errors.New("identity.Set: not an email address"))
	}
	if !ValidLogin(login) {
		return errclass.AsPermanent(fmt.Errorf("identity.Set: %q is not a GitHub login", login))
	}
	b, _ := json.Marshal(Entry{Email: email, Login: login, Source: source, Updated: m.now().UTC()})
	if _, err := m.kv.Put(ctx, Key(email), b); err != nil {
		return errclass.AsRetryable(fmt.Errorf("identity.Set: %w", err))
	}
	return nil
}

// Delete forgets the mapping of email (no error when there is none).
func (m *Map) Delete(ctx context.Context, email string) error {
	err := m.kv.Delete(ctx, Key(email))
	if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return errclass.AsRetryable(fmt.Errorf("identity.Delete: %w", err))
	}
	return nil
}

// List returns every entry, ordered by email.
func (m *Map) List(ctx context.Context) ([]Entry, error) {
	lister, err := m.kv.ListKeysFiltered(ctx, KeyPrefix+".*")
	if err != nil {
		return nil, errclass.AsRetryable(fmt.Errorf("identity.List: %w", err))
	}
	var out []Entry
	for k := range lister.Keys() {
		kve, err := m.kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, errclass.AsRetryable(fmt.Errorf("identity.List: %w", err))
		}
		var e Entry
		if json.Unmarshal(kve.Value(), &e) == nil && e.Login != "" {
			out = append(out, e)
		}
	}
	sortEntries(out)
	return out, nil
}
