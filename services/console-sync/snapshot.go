package consolesync

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/idsync/idsync/pkg/console"
)

// snapshot is the company listings a reconciliation's comparison read,
// for its apply. The Console has no per-user lookup: FindUser lists the
// whole company (and, for someone absent, twice more), so re-reading it for
// each item would cost items × pages calls — 15,000 for 100 additions to a
// company of 10,000. The apply follows the comparison at once, and the
// Console's own answers cover what changed in between: adding someone
// already in the company is refused (a failed item), removing someone
// already gone is not found (unchanged).
type snapshot struct {
	mu    sync.Mutex
	at    time.Time
	users map[string]map[string]console.User // company → lower-case email → user
}

// snapshotTTL bounds how old a listing an apply uses; an apply later than
// that (a report applied by hand much later) reads the Console again.
const snapshotTTL = 30 * time.Minute

// reset starts a new comparison's snapshot.
func (s *snapshot) reset(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.at, s.users = now, map[string]map[string]console.User{}
}

// put records a company's users.
func (s *snapshot) put(companyID string, users []console.User) {
	byEmail := make(map[string]console.User, len(users))
	for _, u := range users {
		byEmail[strings.ToLower(strings.TrimSpace(u.Email))] = u
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[companyID] = byEmail
}

// find answers FindUser by email from the snapshot; ok is false when it
// cannot (another company, a lookup by id, or too old).
func (s *snapshot) find(companyID, userID, email string, now time.Time) (u console.User, found, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	byEmail, known := s.users[companyID]
	if !known || userID != "" || email == "" || now.Sub(s.at) > snapshotTTL {
		return console.User{}, false, false
	}
	u, found = byEmail[strings.ToLower(strings.TrimSpace(email))]
	return u, found, true
}

// snapshotDir is a Directory whose FindUser answers from the snapshot when
// it can.
type snapshotDir struct {
	Directory
	snap *snapshot
}

func (d snapshotDir) FindUser(ctx context.Context, companyID, userID, email string) (console.User, bool, error) {
	if u, found, ok := d.snap.find(companyID, userID, email, time.Now()); ok {
		return u, found, nil
	}
	return d.Directory.FindUser(ctx, companyID, userID, email)
}

func (d snapshotDir) RemoveUser(ctx context.Context, companyID, userID string) error {
	err := d.Directory.RemoveUser(ctx, companyID, userID)
	if err == nil {
		d.snap.mu.Lock()
		for email, u := range d.snap.users[companyID] {
			if u.UserID == userID {
				delete(d.snap.users[companyID], email)
			}
		}
		d.snap.mu.Unlock()
	}
	return err
}
