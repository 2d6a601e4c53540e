package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/idsync/idsync/pkg/events"
)

// KV bucket base names; the namespace prefixes them (IDSYNC_GUARD, …).
const (
	BucketGuard      = "GUARD"
	BucketGrants     = "GRANTS"
	BucketIdentities = "IDENTITIES"
	// BucketServices holds what each sync consumer announces at start.
	BucketServices = "SERVICES"
	// BucketLocks holds leases (pkg/lock): one holder at a time across
	// replicas, e.g. one reconciliation per provider. Its entries expire
	// after LockTTL unless their holder refreshes them, so a crashed
	// holder's lock frees itself.
	BucketLocks = "LOCKS"
	// BucketReconcile holds each provider's last reconciliation, which the
	// schedules of all replicas read so that one run per interval happens.
	BucketReconcile = "RECONCILE"
	// BucketOktaBackfill holds the Okta System Log backfill's cursor per
	// org (pkg/oktalog): how far the log has been read.
	BucketOktaBackfill = "OKTA_BACKFILL"
)

// LockTTL is how long a lease of BucketLocks outlives its holder's last
// refresh: the longest a crashed holder blocks the next one.
const LockTTL = 30 * time.Second

// Buckets are every KV bucket idsync uses, with the description each is
// created with and the age at which its entries expire (0 = never). One
// table, so that whoever creates or updates a bucket (a service at start,
// the provisioning job, the CLI) configures it the same.
var Buckets = []struct {
	Base, Description string
	TTL               time.Duration
}{
	{BucketGuard, "idsync removal guards (paused state, removals in the window)", 0},
	{BucketGrants, "idsync managed grants (the memberships idsync may revoke)", 0},
	{BucketIdentities, "idsync identity map (email → GitHub login)", 0},
	{BucketServices, "idsync sync consumers: mode (live or dry-run), version and start time, written at start", 0},
	{BucketLocks, "idsync leases (one reconciliation per provider at a time); entries expire unless refreshed", LockTTL},
	{BucketReconcile, "idsync reconciliation: each provider's last run, read by the schedule of every replica", 0},
	{BucketOktaBackfill, "idsync Okta System Log backfill: the cursor per org (how far the log has been read and published)", 0},
}

// KeyValue opens (creating or updating) one of the Buckets of the
// namespace. Buckets keep one revision per key on file storage with the
// streams' replica count.
func KeyValue(ctx context.Context, js jetstream.JetStream, ns events.Namespace, base string, replicas int) (jetstream.KeyValue, error) {
	description, ttl := "", time.Duration(0)
	for _, b := range Buckets {
		if b.Base == base {
			description, ttl = b.Description, b.TTL
		}
	}
	if description == "" {
		return nil, fmt.Errorf("bus.KeyValue: %q is not one of bus.Buckets", base)
	}
	cfg := jetstream.KeyValueConfig{
		Bucket:      ns.Stream(base),
		Description: description,
		History:     1,
		TTL:         ttl,
		Storage:     jetstream.FileStorage,
		Replicas:    max(replicas, 1),
	}
	// On a fresh cluster, several services creating the same R3 buckets at
	// once make the meta leader answer late: a create that timed out (or
	// met no JetStream responder yet) is retried, as WaitStreams retries
	// the streams, until ctx ends. Other errors (a bad configuration, no
	// permission) are returned at once.
	for delay := 250 * time.Millisecond; ; delay = min(delay*2, 5*time.Second) {
		kv, err := js.CreateOrUpdateKeyValue(ctx, cfg)
		if err == nil {
			return kv, nil
		}
		if !transient(err) || ctx.Err() != nil {
			return nil, fmt.Errorf("bus.KeyValue %s: %w", cfg.Bucket, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("bus.KeyValue %s: %w", cfg.Bucket, err)
		case <-time.After(delay):
		}
	}
}

// transient reports whether a JetStream API call may succeed if repeated:
// it timed out, or no server answered yet.
func transient(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse)
}
