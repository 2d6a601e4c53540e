package oktalog

import (
	"errors"
	"fmt"
	"time"
)

// Config tunes the backfill. The routing variables it shares with the
// gateway (IDSYNC_OKTA_DEACTIVATE_DELETES, IDSYNC_OKTA_FORWARD_EVENT_TYPES,
// IDSYNC_RAW_PAYLOAD_MAX_BYTES) are not here: a process running both reads
// each variable once and hands the values to Options.
type Config struct {
	Interval time.Duration `env:"IDSYNC_OKTA_BACKFILL_INTERVAL" default:"1m" help:"how often the Okta System Log is read for events the hooks did not deliver"`
	// Lookback only matters the first time: afterwards the cursor in the KV
	// bucket says where to resume, however long the backfill was down.
	Lookback time.Duration `env:"IDSYNC_OKTA_BACKFILL_LOOKBACK" default:"1h" help:"where the first run starts reading (now minus this) when there is no cursor yet"`
	// Settle: Okta's System Log is eventually consistent, and a bounded
	// read may miss an event not yet stored; the newest events are left to
	// the next poll.
	Settle time.Duration `env:"IDSYNC_OKTA_BACKFILL_SETTLE" default:"30s" help:"events younger than this are left to the next poll (the System Log is eventually consistent)"`
	// Overlap re-reads the end of the previous window, for events Okta
	// stored later than their publication; what was already handled is
	// skipped (the cursor remembers it) or deduplicated by JetStream.
	Overlap time.Duration `env:"IDSYNC_OKTA_BACKFILL_OVERLAP" default:"5m" help:"each poll re-reads this much before its cursor, for events the System Log stored late"`
	// PageSize 1000, Okta's maximum, reads a backlog in the fewest calls of
	// the System Log's rate limit.
	PageSize int `env:"IDSYNC_OKTA_BACKFILL_PAGE_SIZE" default:"1000" help:"events per System Log page (1 to 1000)"`
}

// maxLookback is Okta's System Log retention: older events cannot be read.
const maxLookback = 90 * 24 * time.Hour

// Validate reports every problem, one error each.
func (c Config) Validate() error {
	var errs []error
	if c.Interval < 100*time.Millisecond || c.Interval > 24*time.Hour {
		errs = append(errs, fmt.Errorf("IDSYNC_OKTA_BACKFILL_INTERVAL: %s, want 100ms to 24h (the pacer keeps any interval within Okta's rate limit)", c.Interval))
	}
	if c.Lookback < 0 || c.Lookback > maxLookback {
		errs = append(errs, fmt.Errorf("IDSYNC_OKTA_BACKFILL_LOOKBACK: %s, want 0 to 2160h (Okta keeps the System Log 90 days)", c.Lookback))
	}
	if c.Settle < 0 || c.Settle > time.Hour {
		errs = append(errs, fmt.Errorf("IDSYNC_OKTA_BACKFILL_SETTLE: %s, want 0 to 1h", c.Settle))
	}
	if c.Overlap < 0 || c.Overlap > 24*time.Hour {
		errs = append(errs, fmt.Errorf("IDSYNC_OKTA_BACKFILL_OVERLAP: %s, want 0 to 24h", c.Overlap))
	}
	if c.PageSize < 1 || c.PageSize > 1000 {
		errs = append(errs, fmt.Errorf("IDSYNC_OKTA_BACKFILL_PAGE_SIZE: %d, want 1 to 1000", c.PageSize))
	}
	return errors.Join(errs...)
}
