package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// State is what bus.BucketReconcile holds per provider (key = provider):
// the last run and when the last scheduled run that reached its end
// started. Every replica's schedule reads it, so that N replicas run one
// scheduled reconciliation per interval between them, not N.
type State struct {
	// LastScheduled is the start of the last scheduled run that reached
	// its end (zero: none yet).
	LastScheduled time.Time `json:"lastScheduled,omitzero"`
	Last          LastRun   `json:"last"`
}

// LastRun summarises a run without naming anyone.
type LastRun struct {
	ID        string    `json:"id"`
	Trigger   string    `json:"trigger"`
	Started   time.Time `json:"started"`
	Finished  time.Time `json:"finished"`
	Apply     bool      `json:"apply"`
	Result    string    `json:"result"`
	Items     int       `json:"items"`
	Remaining int       `json:"remaining"`
	Error     string    `json:"error,omitempty"`
}

// ReadState reads provider's state; a provider never reconciled has the
// zero State.
func ReadState(ctx context.Context, kv jetstream.KeyValue, provider string) (State, error) {
	e, err := kv.Get(ctx, provider)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return State{}, nil
	}
	if err != nil {
		return State{}, fmt.Errorf("reconcile: reading the state of %s: %w", provider, err)
	}
	var st State
	if err := json.Unmarshal(e.Value(), &st); err != nil {
		// A value this version cannot read is treated as no state: the
		// worst outcome is one scheduled run too many.
		return State{}, nil
	}
	return st, nil
}

// saveState records rep as the provider's last run. The caller holds the
// provider's lock, so no other replica writes the key meanwhile.
func (r *Runner) saveState(ctx context.Context, rep Report, result string) error {
	st, err := ReadState(ctx, r.c.State, r.c.Provider)
	if err != nil {
		return err
	}
	st.Last = LastRun{
		ID: rep.ID, Trigger: rep.Trigger, Started: rep.Started, Finished: rep.Finished, Apply: rep.Apply,
		Result: result, Items: rep.ItemCount, Remaining: rep.Remaining, Error: rep.Error,
	}
	if rep.Trigger == TriggerSchedule && result == RunOK {
		st.LastScheduled = rep.Started
	}
	b, _ := json.Marshal(st)
	if _, err := r.c.State.Put(ctx, r.c.Provider, b); err != nil {
		return fmt.Errorf("reconcile: recording the run of %s: %w", r.c.Provider, err)
	}
	return nil
}
