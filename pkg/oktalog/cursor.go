package oktalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Cursor is how far the backfill has read an org's System Log. It is kept
// in a KV bucket, written after each page is durably published, so that a
// restart or another instance resumes exactly where the last one stopped.
type Cursor struct {
	// Org is the org URL the cursor is about (for people reading the bucket).
	Org string `json:"org"`
	// Time: every event published before it has been read and handled.
	Time time.Time `json:"time"`
	// Handled are the events published at or after Time − overlap that
	// were handled, by uuid, with their publication time. A poll re-reads
	// them (it starts overlap before Time, and Time itself may be the
	// instant of events continued on the next page) and skips them.
	Handled map[string]time.Time `json:"handled,omitempty"`
}

// maxHandled bounds the handled set kept in the cursor: beyond it the
// oldest are dropped, and a re-read of them is deduplicated by JetStream
// instead of skipped.
const maxHandled = 20000

// handle records uuid as handled at published and moves Time up to it.
func (c *Cursor) handle(uuid string, published time.Time) {
	if c.Handled == nil {
		c.Handled = map[string]time.Time{}
	}
	c.Handled[uuid] = published
	if published.After(c.Time) {
		c.Time = published
	}
}

// prune forgets what no poll will re-read: events published before
// Time − overlap, and the oldest beyond maxHandled.
func (c *Cursor) prune(overlap time.Duration) {
	floor := c.Time.Add(-overlap)
	maps.DeleteFunc(c.Handled, func(_ string, t time.Time) bool { return t.Before(floor) })
	if len(c.Handled) <= maxHandled {
		return
	}
	ids := slices.SortedFunc(maps.Keys(c.Handled), func(a, b string) int { return c.Handled[a].Compare(c.Handled[b]) })
	for _, id := range ids[:len(ids)-maxHandled] {
		delete(c.Handled, id)
	}
}

// errLost means another instance wrote the cursor or holds the lease: this
// one must stop reading.
var errLost = errors.New("oktalog: another instance took over")

// cursors reads and writes one org's cursor with compare-and-set on the
// entry's revision, so that an instance that lost its lease without
// noticing cannot move the cursor of the one that took over.
type cursors struct {
	kv  jetstream.KeyValue
	key string
}

// load returns the cursor and its revision (0: none yet).
func (c cursors) load(ctx context.Context) (Cursor, uint64, error) {
	e, err := c.kv.Get(ctx, c.key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Cursor{}, 0, nil
	}
	if err != nil {
		return Cursor{}, 0, fmt.Errorf("oktalog: read cursor %s: %w", c.key, err)
	}
	var cur Cursor
	if err := json.Unmarshal(e.Value(), &cur); err != nil {
		return Cursor{}, 0, fmt.Errorf("oktalog: cursor %s is not JSON: %w", c.key, err)
	}
	return cur, e.Revision(), nil
}

// save writes cur if the entry is still at rev, and returns the new revision.
func (c cursors) save(ctx context.Context, cur Cursor, rev uint64) (uint64, error) {
	b, err := json.Marshal(cur)
	if err != nil {
		return 0, err
	}
	var next uint64
	if rev == 0 {
		next, err = c.kv.Create(ctx, c.key, b)
	} else {
		next, err = c.kv.Update(ctx, c.key, b, rev)
	}
	if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return 0, errLost
	}
	if err != nil {
		return 0, fmt.Errorf("oktalog: write cursor %s: %w", c.key, err)
	}
	return next, nil
}

// orgKey turns an org URL into a KV key token: its host (and port), lower
// case, with every character a key may not hold replaced by "_".
func orgKey(orgURL string) string {
	host := orgURL
	if u, err := url.Parse(orgURL); err == nil && u.Host != "" {
		host = u.Host
	}
	host = strings.ToLower(host)
	var b strings.Builder
	for _, r := range host {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "org"
	}
	return b.String()
}
