package fuzzing

import (
	"context"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// KV is an in-memory jetstream.KeyValue for fuzz targets that decode KV
// records: a target stores any bytes with Set and runs the code that reads
// them. Get, Put, Create, Update and Delete behave like a bucket's (Create
// fails on an existing key, Update on a stale revision); any other method
// panics, since the embedded interface is nil.
type KV struct {
	jetstream.KeyValue
	mu   sync.Mutex
	vals map[string][]byte
	revs map[string]uint64
	rev  uint64
}

// NewKV returns an empty bucket.
func NewKV() *KV { return &KV{vals: map[string][]byte{}, revs: map[string]uint64{}} }

// Set stores value under key as it is, bypassing every check.
func (k *KV) Set(key string, value []byte) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.rev++
	k.vals[key], k.revs[key] = value, k.rev
}

// Value returns what key holds.
func (k *KV) Value(key string) ([]byte, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.vals[key]
	return v, ok
}

// Stored returns the keys the bucket holds, in no order.
func (k *KV) Stored() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]string, 0, len(k.vals))
	for key := range k.vals {
		out = append(out, key)
	}
	return out
}

// Get returns the entry of key, or jetstream.ErrKeyNotFound.
func (k *KV) Get(_ context.Context, key string) (jetstream.KeyValueEntry, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.vals[key]
	if !ok {
		return nil, jetstream.ErrKeyNotFound
	}
	return entry{key: key, value: v, rev: k.revs[key]}, nil
}

// Put stores value under key.
func (k *KV) Put(_ context.Context, key string, value []byte) (uint64, error) {
	k.Set(key, value)
	return k.rev, nil
}

// Create stores value unless key exists (jetstream.ErrKeyExists).
func (k *KV) Create(ctx context.Context, key string, value []byte, _ ...jetstream.KVCreateOpt) (uint64, error) {
	if _, ok := k.Value(key); ok {
		return 0, jetstream.ErrKeyExists
	}
	return k.Put(ctx, key, value)
}

// Update stores value if key is at revision last, else fails as JetStream
// does (wrong last sequence).
func (k *KV) Update(ctx context.Context, key string, value []byte, last uint64) (uint64, error) {
	k.mu.Lock()
	cur := k.revs[key]
	k.mu.Unlock()
	if cur != last {
		return 0, &jetstream.APIError{Code: 400, ErrorCode: jetstream.JSErrCodeStreamWrongLastSequence, Description: "wrong last sequence"}
	}
	return k.Put(ctx, key, value)
}

// Delete removes key.
func (k *KV) Delete(_ context.Context, key string, _ ...jetstream.KVDeleteOpt) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.vals, key)
	delete(k.revs, key)
	return nil
}

type entry struct {
	jetstream.KeyValueEntry
	key   string
	value []byte
	rev   uint64
}

func (e entry) Bucket() string                  { return "fuzz" }
func (e entry) Key() string                     { return e.key }
func (e entry) Value() []byte                   { return e.value }
func (e entry) Revision() uint64                { return e.rev }
func (e entry) Created() time.Time              { return time.Unix(0, 0) }
func (e entry) Delta() uint64                   { return 0 }
func (e entry) Operation() jetstream.KeyValueOp { return jetstream.KeyValuePut }
