package syncsvc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/metrics"
)

// BucketServices is the KV bucket (IDSYNC_SERVICES) where every sync
// consumer announces, when it starts, how it runs: dry-run or live is
// process configuration, invisible on the bus otherwise.
const BucketServices = bus.BucketServices

// Modes of a sync consumer.
const (
	ModeLive   = "live"
	ModeDryRun = "dry-run"
)

// Announcement is what a sync consumer writes under its name in
// BucketServices when it starts. It says how the process that wrote it was
// configured; it says nothing about whether that process still runs.
type Announcement struct {
	Consumer string `json:"consumer"`
	Provider string `json:"provider"`
	// Mode is ModeLive or ModeDryRun; Why says why dry-run
	// (IDSYNC_DRY_RUN, or the provider's missing credentials).
	Mode    string    `json:"mode"`
	Why     string    `json:"why,omitempty"`
	Version string    `json:"version"`
	Host    string    `json:"host,omitempty"`
	Started time.Time `json:"started"`
}

// announce writes a's entry. Failing to write it never stops a consumer
// (the caller logs it): the entry is for operators, not for the sync.
func announce(ctx context.Context, d *Deps, a Announcement) error {
	kv, err := d.KeyValue(ctx, BucketServices)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(a)
	if _, err := kv.Put(ctx, a.Consumer, b); err != nil {
		return fmt.Errorf("syncsvc.announce %s: %w", a.Consumer, err)
	}
	return nil
}

func newAnnouncement(spec Spec, cfg Config, dryRun bool, now time.Time) Announcement {
	a := Announcement{Consumer: spec.Name, Provider: spec.Provider, Mode: ModeLive, Version: metrics.Version, Started: now.UTC()}
	a.Host, _ = os.Hostname()
	switch {
	case cfg.DryRun:
		a.Mode, a.Why = ModeDryRun, "IDSYNC_DRY_RUN"
	case !spec.Configured:
		a.Mode, a.Why = ModeDryRun, "no "+spec.Provider+" credentials"
	case dryRun:
		a.Mode = ModeDryRun
	}
	return a
}

// Announcements reads every entry of BucketServices in namespace ns, by
// consumer name. A missing bucket (no sync consumer ever started) is an
// empty map, not an error; it never creates the bucket.
func Announcements(ctx context.Context, js jetstream.JetStream, ns events.Namespace) (map[string]Announcement, error) {
	out := map[string]Announcement{}
	kv, err := js.KeyValue(ctx, ns.Stream(BucketServices))
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("syncsvc.Announcements: %w", err)
	}
	keys, err := kv.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("syncsvc.Announcements: %w", err)
	}
	for k := range keys.Keys() {
		e, err := kv.Get(ctx, k)
		if err != nil {
			continue // deleted meanwhile
		}
		var a Announcement
		if json.Unmarshal(e.Value(), &a) == nil {
			out[k] = a
		}
	}
	return out, nil
}
