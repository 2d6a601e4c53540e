package eventlog

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/idsync/idsync/pkg/config"
)

// Users are the events API's accounts: "name:bcrypt-hash" pairs.
type Users map[string][]byte

// ParseUsers reads IDSYNC_API_USERS entries ("alice:$2a$…").
func ParseUsers(entries config.Secrets) (Users, error) {
	u := Users{}
	var errs []error
	for _, e := range entries {
		name, hash, ok := strings.Cut(e.Reveal(), ":")
		if !ok || name == "" {
			errs = append(errs, errors.New("IDSYNC_API_USERS: an entry is not user:bcrypt-hash"))
			continue
		}
		if _, err := bcrypt.Cost([]byte(hash)); err != nil {
			errs = append(errs, fmt.Errorf("IDSYNC_API_USERS: the hash of %q is not a bcrypt hash (make one with: htpasswd -nbB %s PASSWORD)", name, name))
			continue
		}
		u[name] = []byte(hash)
	}
	return u, errors.Join(errs...)
}

// basicAuth checks HTTP Basic credentials against bcrypt hashes. bcrypt is
// slow on purpose; a successful check is remembered for a few minutes (keyed
// by a hash of the credentials), so that API latency stays low without
// weakening the stored hashes.
type basicAuth struct {
	users Users
	mu    sync.Mutex
	ok    map[[32]byte]time.Time
}

const authCacheTTL = 5 * time.Minute

func newBasicAuth(u Users) *basicAuth { return &basicAuth{users: u, ok: map[[32]byte]time.Time{}} }

// check returns the user name when the request carries valid credentials.
func (a *basicAuth) check(r *http.Request) (string, bool) {
	name, pass, ok := r.BasicAuth()
	if !ok || len(a.users) == 0 {
		return "", false
	}
	key := sha256.Sum256([]byte(name + "\x00" + pass))
	a.mu.Lock()
	until, cached := a.ok[key]
	a.mu.Unlock()
	if cached && time.Now().Before(until) {
		return name, true
	}
	hash, known := a.users[name]
	if !known {
		// Spend the same time as a real check, so that timing does not tell
		// which user names exist.
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(pass))
		return "", false
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(pass)) != nil {
		return "", false
	}
	a.mu.Lock()
	if len(a.ok) > 10000 {
		clear(a.ok)
	}
	a.ok[key] = time.Now().Add(authCacheTTL)
	a.mu.Unlock()
	return name, true
}

var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("idsync"), bcrypt.DefaultCost)
