package bus

import (
	"context"
	"fmt"

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
)

// Buckets are every KV bucket idsync uses, with the description each is
// created with. One table, so that whoever creates or updates a bucket (a
// service at start, the provisioning job, the CLI) configures it the same.
var Buckets = []struct{ Base, Description string }{
	{BucketGuard, "idsync removal guards (paused state, removals in the window)"},
	{BucketGrants, "idsync managed grants (the memberships idsync may revoke)"},
	{BucketIdentities, "idsync identity map (email → GitHub login)"},
	{BucketServices, "idsync sync consumers: mode (live or dry-run), version and start time, written at start"},
}

// KeyValue opens (creating or updating) one of the Buckets of the
// namespace. Buckets keep one revision per key on file storage with the
// streams' replica count.
func KeyValue(ctx context.Context, js jetstream.JetStream, ns events.Namespace, base string, replicas int) (jetstream.KeyValue, error) {
	description := ""
	for _, b := range Buckets {
		if b.Base == base {
			description = b.Description
		}
	}
	if description == "" {
		return nil, fmt.Errorf("bus.KeyValue: %q is not one of bus.Buckets", base)
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      ns.Stream(base),
		Description: description,
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    max(replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("bus.KeyValue %s: %w", ns.Stream(base), err)
	}
	return kv, nil
}
