// Package guard protects deprovisioning (design §7.3): accounts listed as
// protected are never removed, and a consumer that would remove more users
// than a threshold within a window pauses itself, alerts, and stays paused
// until an operator resumes it. The count and the paused state live in a
// NATS KV bucket, so every replica of a consumer shares them.
package guard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/metrics"
)

// Config is the guard's configuration, shared by every sync consumer.
type Config struct {
	Protected []string      `env:"IDSYNC_PROTECTED_ACCOUNTS" help:"emails, logins or ids that no consumer ever removes, blocks or demotes (comma-separated)"`
	Threshold int           `env:"IDSYNC_REMOVAL_THRESHOLD" default:"25" help:"removals within IDSYNC_REMOVAL_WINDOW that pause a consumer (0 = no limit)"`
	Window    time.Duration `env:"IDSYNC_REMOVAL_WINDOW" default:"1h" help:"the sliding window of IDSYNC_REMOVAL_THRESHOLD"`
	// RetryDelay is how long a message refused while paused waits before it
	// is offered again (the consumer itself stops pulling meanwhile); zero
	// means one minute. Tests shorten it.
	RetryDelay time.Duration
}

// Validate reports every problem, one error each.
func (c Config) Validate() error {
	var errs []error
	if c.Threshold < 0 {
		errs = append(errs, fmt.Errorf("IDSYNC_REMOVAL_THRESHOLD: %d, want 0 or more", c.Threshold))
	}
	if c.Window < time.Minute {
		errs = append(errs, fmt.Errorf("IDSYNC_REMOVAL_WINDOW: %s, want at least 1m", c.Window))
	}
	return errors.Join(errs...)
}

// ErrPaused is returned (classed RateLimited, so the message is retried
// later and nothing is lost) while the consumer is paused.
var ErrPaused = errors.New("removal guard: consumer paused")

func (c Config) retryDelay() time.Duration {
	if c.RetryDelay > 0 {
		return c.RetryDelay
	}
	return time.Minute
}

// State is what the bucket holds for one consumer.
type State struct {
	Paused    bool      `json:"paused"`
	Reason    string    `json:"reason,omitempty"`
	TrippedAt time.Time `json:"tripped_at,omitzero"`
	ResumedBy string    `json:"resumed_by,omitempty"`
	ResumedAt time.Time `json:"resumed_at,omitzero"`
	// Removals are the people removed in the current window, each counted
	// once however many memberships were removed or how often a removal was
	// retried.
	Removals []Removal `json:"removals,omitempty"`
}

// Removal is one person counted by the guard.
type Removal struct {
	Key string    `json:"key"`
	At  time.Time `json:"at"`
}

// Alert is what the guard reports when it trips or is resumed.
type Alert struct {
	Consumer, Provider string
	Paused             bool
	Removals           int
	Threshold          int
	Window             time.Duration
	Reason, ResumedBy  string
}

// Guard is one consumer's guard.
type Guard struct {
	kv       jetstream.KeyValue
	consumer string
	provider string
	cfg      Config
	alert    func(context.Context, Alert) error
	log      *slog.Logger
	now      func() time.Time
	protect  []string

	paused   prometheus.Gauge
	inWindow prometheus.Gauge
	trips    prometheus.Counter
	refused  prometheus.Counter
}

// New returns the guard of consumer (e.g. gitlab-sync) acting on provider.
// alert publishes the trip and resume notices (nil: log only).
func New(kv jetstream.KeyValue, consumer, provider string, cfg Config, alert func(context.Context, Alert) error, log *slog.Logger, reg prometheus.Registerer) *Guard {
	l := prometheus.Labels{"consumer": consumer}
	gauge := func(name, help string) prometheus.Gauge {
		return metrics.Register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: metrics.Namespace, Subsystem: "guard", Name: name, Help: help}, []string{"consumer"})).With(l)
	}
	counter := func(name, help string) prometheus.Counter {
		return metrics.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metrics.Namespace, Subsystem: "guard", Name: name, Help: help}, []string{"consumer"})).With(l)
	}
	g := &Guard{
		kv: kv, consumer: consumer, provider: provider, cfg: cfg, alert: alert, log: log, now: time.Now,
		paused:   gauge("paused", "1 while the consumer is paused by its removal guard."),
		inWindow: gauge("removals_in_window", "Removals counted in the current window."),
		trips:    counter("trips_total", "Times the removal guard paused the consumer."),
		refused:  counter("protected_skips_total", "Removals skipped because the account is protected."),
	}
	for _, p := range cfg.Protected {
		g.protect = append(g.protect, strings.ToLower(strings.TrimSpace(p)))
	}
	return g
}

// Protected reports whether any of ids (email, login, provider id) is a
// protected account. Callers skip the removal and record it as skipped.
func (g *Guard) Protected(ids ...string) bool {
	for _, id := range ids {
		if id != "" && slices.Contains(g.protect, strings.ToLower(strings.TrimSpace(id))) {
			g.refused.Inc()
			return true
		}
	}
	return false
}

func (g *Guard) key() string { return g.consumer }

func (g *Guard) load(ctx context.Context) (State, uint64, error) {
	e, err := g.kv.Get(ctx, g.key())
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return State{}, 0, nil
	}
	if err != nil {
		return State{}, 0, errclass.AsRetryable(fmt.Errorf("guard: reading state: %w", err))
	}
	var s State
	if err := json.Unmarshal(e.Value(), &s); err != nil {
		return State{}, 0, errclass.AsPermanent(fmt.Errorf("guard: state of %s is corrupt: %w", g.consumer, err))
	}
	return s, e.Revision(), nil
}

// save writes s if the key is still at rev (0: must not exist); it reports
// false when another replica wrote first.
func (g *Guard) save(ctx context.Context, s State, rev uint64) (bool, error) {
	b, _ := json.Marshal(s)
	var err error
	if rev == 0 {
		_, err = g.kv.Create(ctx, g.key(), b)
	} else {
		_, err = g.kv.Update(ctx, g.key(), b, rev)
	}
	if errors.Is(err, jetstream.ErrKeyExists) || isWrongLastSequence(err) {
		return false, nil
	}
	if err != nil {
		return false, errclass.AsRetryable(fmt.Errorf("guard: writing state: %w", err))
	}
	return true, nil
}

func isWrongLastSequence(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence || apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// AllowRemoval counts the person key (a hash of their identity, never an
// email) about to lose access. It returns nil when the removal may go ahead
// (a person already counted in the window always may), or ErrPaused (class
// RateLimited) when the consumer is paused or one more person would exceed
// the threshold — then the guard trips: it pauses every replica and alerts.
func (g *Guard) AllowRemoval(ctx context.Context, key string) error {
	for {
		s, rev, err := g.load(ctx)
		if err != nil {
			return err
		}
		if s.Paused {
			return errclass.AsRateLimited(g.cfg.retryDelay(), ErrPaused)
		}
		now := g.now()
		s.Removals = slices.DeleteFunc(s.Removals, func(r Removal) bool { return now.Sub(r.At) >= g.cfg.Window })
		if slices.ContainsFunc(s.Removals, func(r Removal) bool { return r.Key == key }) {
			return nil
		}
		tripping := g.cfg.Threshold > 0 && len(s.Removals)+1 > g.cfg.Threshold
		if tripping {
			s.Paused, s.TrippedAt, s.ResumedBy, s.ResumedAt = true, now, "", time.Time{}
			s.Reason = fmt.Sprintf("more than %d removals within %s", g.cfg.Threshold, g.cfg.Window)
		} else {
			s.Removals = append(s.Removals, Removal{Key: key, At: now})
		}
		ok, err := g.save(ctx, s, rev)
		if err != nil {
			return err
		}
		if !ok {
			continue // another replica counted first; count again
		}
		g.inWindow.Set(float64(len(s.Removals)))
		if !tripping {
			return nil
		}
		g.trips.Inc()
		g.paused.Set(1)
		g.log.Error("removal guard tripped: consumer paused until an operator resumes it", "reason", s.Reason)
		g.notify(ctx, Alert{Paused: true, Removals: len(s.Removals), Reason: s.Reason})
		return errclass.AsRateLimited(g.cfg.retryDelay(), ErrPaused)
	}
}

// Resume lifts a pause; the removal count starts again from zero.
func (g *Guard) Resume(ctx context.Context, by string) error {
	for {
		s, rev, err := g.load(ctx)
		if err != nil {
			return err
		}
		if !s.Paused {
			return nil
		}
		s.Paused, s.ResumedBy, s.ResumedAt, s.Removals = false, by, g.now(), nil
		ok, err := g.save(ctx, s, rev)
		if err != nil {
			return err
		}
		if ok {
			g.paused.Set(0)
			g.inWindow.Set(0)
			g.log.Warn("removal guard resumed", "by", by)
			g.notify(ctx, Alert{Paused: false, ResumedBy: by, Reason: "resumed by an operator"})
			return nil
		}
	}
}

// State returns the current state.
func (g *Guard) State(ctx context.Context) (State, error) {
	s, _, err := g.load(ctx)
	return s, err
}

func (g *Guard) notify(ctx context.Context, a Alert) {
	a.Consumer, a.Provider, a.Threshold, a.Window = g.consumer, g.provider, g.cfg.Threshold, g.cfg.Window
	if g.alert == nil {
		return
	}
	if err := g.alert(ctx, a); err != nil {
		g.log.Error("publishing the guard alert failed", slog.Any("error", err))
	}
}

// Watch implements bus.Gate: it sends the paused state now and on every
// change, until ctx ends.
func (g *Guard) Watch(ctx context.Context) <-chan bool {
	out := make(chan bool, 1)
	go func() {
		defer close(out)
		var last *bool
		send := func(p bool) bool {
			if last != nil && *last == p {
				return true
			}
			last = &p
			if p {
				g.paused.Set(1)
			} else {
				g.paused.Set(0)
			}
			select {
			case out <- p:
				return true
			case <-ctx.Done():
				return false
			}
		}
		for ctx.Err() == nil {
			w, err := g.kv.Watch(ctx, g.key())
			if err != nil {
				g.log.Warn("guard watch failed; retrying", slog.Any("error", err))
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Second):
					continue
				}
			}
			initial := true
			for e := range w.Updates() {
				if e == nil {
					if initial {
						initial = false
						if last == nil && !send(false) {
							return
						}
					}
					continue
				}
				var s State
				if json.Unmarshal(e.Value(), &s) == nil && !send(s.Paused) {
					_ = w.Stop()
					return
				}
			}
			_ = w.Stop()
		}
	}()
	return out
}
