// Package ledger records the memberships idsync manages: a rule asked for
// them and idsync granted them (or found them already in place). A
// consumer revokes only what the ledger holds, and never above the role it
// recorded, so memberships made by hand are left alone. Entries live in a
// NATS KV bucket shared by every replica.
package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/idsync/idsync/pkg/errclass"
)

// Grant is one managed membership.
type Grant struct {
	Provider string `json:"provider"`
	// Target is the provider object (group path, org/team, company id).
	Target string `json:"target"`
	// User is the person's key at the provider (login, user id or email).
	User   string `json:"user"`
	Role   string `json:"role,omitempty"`
	RuleID string `json:"rule_id"`
	// The context the rule was evaluated in (Console company, project,
	// environment), so that a later event of the same company re-evaluates
	// exactly the grants it could affect.
	CompanyID     string    `json:"company_id,omitempty"`
	ProjectID     string    `json:"project_id,omitempty"`
	EnvironmentID string    `json:"environment_id,omitempty"`
	At            time.Time `json:"at"`
}

// Ledger reads and writes grants.
type Ledger struct {
	js jetstream.JetStream
	kv jetstream.KeyValue

	mu     sync.Mutex
	stream jetstream.Stream // the bucket's stream, opened on first use
}

// New wraps a KV bucket; js is the JetStream context it was opened with.
func New(js jetstream.JetStream, kv jetstream.KeyValue) *Ledger { return &Ledger{js: js, kv: kv} }

// key is provider.<user hash>.<target hash>: KV keys allow few characters,
// and hashing keeps emails out of the key space.
func key(provider, user, target string) string {
	return provider + "." + hash(strings.ToLower(user)) + "." + hash(target)
}

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:12])
}

// Put records a grant.
func (l *Ledger) Put(ctx context.Context, g Grant) error {
	if g.At.IsZero() {
		g.At = time.Now().UTC()
	}
	b, _ := json.Marshal(g)
	if _, err := l.kv.Put(ctx, key(g.Provider, g.User, g.Target), b); err != nil {
		return errclass.AsRetryable(fmt.Errorf("ledger: %w", err))
	}
	return nil
}

// Get returns the grant of user in target, if idsync manages it.
func (l *Ledger) Get(ctx context.Context, provider, target, user string) (Grant, bool, error) {
	e, err := l.kv.Get(ctx, key(provider, user, target))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Grant{}, false, nil
	}
	if err != nil {
		return Grant{}, false, errclass.AsRetryable(fmt.Errorf("ledger: %w", err))
	}
	var g Grant
	if err := json.Unmarshal(e.Value(), &g); err != nil {
		return Grant{}, false, errclass.AsPermanent(fmt.Errorf("ledger: corrupt entry: %w", err))
	}
	return g, true, nil
}

// Delete forgets a grant (after it was revoked).
func (l *Ledger) Delete(ctx context.Context, provider, target, user string) error {
	err := l.kv.Delete(ctx, key(provider, user, target))
	if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return errclass.AsRetryable(fmt.Errorf("ledger: %w", err))
	}
	return nil
}

// ForUser lists every grant of user at provider (for offboarding).
//
// The user's keys are found by asking the bucket's stream which subjects
// under the user's prefix hold messages — one request answered from the
// stream's subject index. Listing keys the KV way (ListKeysFiltered) creates
// and deletes a consumer on the server per call, which a consumer doing it
// for every event turns into the bottleneck of the whole cluster.
func (l *Ledger) ForUser(ctx context.Context, provider, user string) ([]Grant, error) {
	s, err := l.bucketStream(ctx)
	if err != nil {
		return nil, errclass.AsRetryable(fmt.Errorf("ledger: %w", err))
	}
	subjects := "$KV." + l.kv.Bucket() + "."
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(subjects+provider+"."+hash(strings.ToLower(user))+".*"))
	if err != nil {
		return nil, errclass.AsRetryable(fmt.Errorf("ledger: %w", err))
	}
	keys := make([]string, 0, len(info.State.Subjects))
	for subject := range info.State.Subjects {
		keys = append(keys, strings.TrimPrefix(subject, subjects))
	}
	slices.Sort(keys) // a stable order, as the KV listing had
	var out []Grant
	for _, k := range keys {
		// Deleted grants keep a delete marker under their subject: Get
		// reports them as not found.
		e, err := l.kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, errclass.AsRetryable(fmt.Errorf("ledger: %w", err))
		}
		var g Grant
		if json.Unmarshal(e.Value(), &g) == nil {
			out = append(out, g)
		}
	}
	return out, nil
}

func (l *Ledger) bucketStream(ctx context.Context) (jetstream.Stream, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stream == nil {
		s, err := l.js.Stream(ctx, "KV_"+l.kv.Bucket())
		if err != nil {
			return nil, err
		}
		l.stream = s
	}
	return l.stream, nil
}
