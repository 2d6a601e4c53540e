package bus

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Settings tune a durable consumer and the runtime that handles its messages.
type Settings struct {
	Workers int `env:"IDSYNC_CONSUMER_WORKERS" default:"256" help:"messages a replica handles concurrently; hides provider latency"`
	// MaxAckPending bounds unacknowledged messages across all replicas;
	// delivery pauses when it is reached.
	MaxAckPending int           `env:"IDSYNC_CONSUMER_MAX_ACK_PENDING" default:"1024" help:"unacknowledged messages in flight across all replicas of a consumer"`
	AckWait       time.Duration `env:"IDSYNC_CONSUMER_ACK_WAIT" default:"30s" help:"redelivery timeout; slow handlers extend it with progress heartbeats"`
	MaxDeliver    int           `env:"IDSYNC_CONSUMER_MAX_DELIVER" default:"15" help:"deliveries before a failing message is dead-lettered"`
	BackoffBase   time.Duration `env:"IDSYNC_CONSUMER_BACKOFF_BASE" default:"1s" help:"first retry delay of a transient failure; doubles per delivery"`
	BackoffMax    time.Duration `env:"IDSYNC_CONSUMER_BACKOFF_MAX" default:"10m" help:"longest retry delay"`
	DrainTimeout  time.Duration `env:"IDSYNC_CONSUMER_DRAIN_TIMEOUT" default:"25s" help:"on shutdown, how long in-flight messages may take before they are left for redelivery"`
	LagInterval   time.Duration `env:"IDSYNC_CONSUMER_LAG_INTERVAL" default:"15s" help:"how often consumer lag (pending, ack pending) is read for metrics"`
}

// Validate reports every problem, one error each.
func (s Settings) Validate() error {
	var errs []error
	if s.Workers < 1 || s.Workers > 4096 {
		errs = append(errs, fmt.Errorf("IDSYNC_CONSUMER_WORKERS: %d, want 1 to 4096", s.Workers))
	}
	if s.MaxAckPending < s.Workers {
		errs = append(errs, fmt.Errorf("IDSYNC_CONSUMER_MAX_ACK_PENDING: %d is below IDSYNC_CONSUMER_WORKERS %d", s.MaxAckPending, s.Workers))
	}
	if s.AckWait < time.Second {
		errs = append(errs, fmt.Errorf("IDSYNC_CONSUMER_ACK_WAIT: %s, want at least 1s", s.AckWait))
	}
	if s.MaxDeliver < 2 {
		errs = append(errs, fmt.Errorf("IDSYNC_CONSUMER_MAX_DELIVER: %d, want at least 2", s.MaxDeliver))
	}
	if s.BackoffBase <= 0 || s.BackoffMax < s.BackoffBase {
		errs = append(errs, fmt.Errorf("IDSYNC_CONSUMER_BACKOFF_BASE/IDSYNC_CONSUMER_BACKOFF_MAX: %s/%s, want 0 < base <= max", s.BackoffBase, s.BackoffMax))
	}
	if s.DrainTimeout <= 0 {
		errs = append(errs, fmt.Errorf("IDSYNC_CONSUMER_DRAIN_TIMEOUT: %s, want more than 0", s.DrainTimeout))
	}
	if s.LagInterval < time.Second {
		errs = append(errs, fmt.Errorf("IDSYNC_CONSUMER_LAG_INTERVAL: %s, want at least 1s", s.LagInterval))
	}
	return errors.Join(errs...)
}

// backoff is the redelivery delay after the delivery-th failed attempt:
// base·2^(delivery-1), capped at max, with ±20 % jitter so that a burst of
// failures does not come back at the same instant.
func (s Settings) backoff(delivery uint64) time.Duration {
	d := s.BackoffBase
	for i := uint64(1); i < delivery && d < s.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, s.BackoffMax)
	jitter := time.Duration(rand.Int64N(int64(d)/5 + 1))
	if rand.IntN(2) == 0 {
		return d - jitter
	}
	return min(d+jitter, s.BackoffMax)
}
