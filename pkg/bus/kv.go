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
)

// KeyValue opens (creating or updating) a key-value bucket of the namespace.
// Buckets keep one revision per key on file storage with the streams'
// replica count.
func KeyValue(ctx context.Context, js jetstream.JetStream, ns events.Namespace, base, description string, replicas int) (jetstream.KeyValue, error) {
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
