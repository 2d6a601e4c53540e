// Package errclass gives errors a portable class that decides what a consumer
// does with a failed message: retry it later, retry it after a delay the
// provider asked for, give up and dead-letter it, or record that the object
// was not found. Provider adapters classify SDK errors once, at the edge, so
// that no caller ever inspects an error message.
package errclass

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Class is the kind of failure.
type Class int

const (
	// Unknown is an unclassified error; consumers treat it as Retryable.
	Unknown Class = iota
	// Retryable is transient (timeouts, 5xx, connection errors): retry with backoff.
	Retryable
	// RateLimited means the provider asked to slow down; retry after the delay.
	RateLimited
	// Permanent will fail the same way every time (4xx, invalid input): dead-letter it.
	Permanent
	// NotFound means the object does not exist at the provider: an outcome, not a retry.
	NotFound
)

var classNames = [...]string{"unknown", "retryable", "rate_limited", "permanent", "not_found"}

// All lists every class, in order (for vocabularies built from the code).
func All() []Class {
	out := make([]Class, len(classNames))
	for i := range out {
		out[i] = Class(i)
	}
	return out
}

// String returns the class's stable name, used in metrics and DLQ headers.
func (c Class) String() string {
	if c >= 0 && int(c) < len(classNames) {
		return classNames[c]
	}
	return fmt.Sprintf("class(%d)", int(c))
}

// Error is an error with a class and, for RateLimited, the delay to wait.
type Error struct {
	Class Class
	// Delay is how long to wait before retrying (RateLimited, or a Retryable
	// error whose source suggested a delay); zero means "use the backoff".
	Delay time.Duration
	Err   error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return e.Class.String()
	}
	return e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// AsRetryable marks err as transient.
func AsRetryable(err error) error { return &Error{Class: Retryable, Err: err} }

// AsRateLimited marks err as rate-limited, to be retried after d.
func AsRateLimited(d time.Duration, err error) error {
	return &Error{Class: RateLimited, Delay: d, Err: err}
}

// AsPermanent marks err as one that retrying cannot fix.
func AsPermanent(err error) error { return &Error{Class: Permanent, Err: err} }

// AsNotFound marks err as "the object does not exist".
func AsNotFound(err error) error { return &Error{Class: NotFound, Err: err} }

// Of returns the class of err: the outermost classified error in its chain,
// or Unknown. A nil error has class Unknown.
func Of(err error) Class {
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	return Unknown
}

// DelayOf returns the delay requested by the outermost classified error in
// err's chain, or zero.
func DelayOf(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.Delay
	}
	return 0
}

// SleepRateLimited waits out the delay a rate-limited error asks for, when
// it is known and at most max: for work that must get through a quota
// rather than give up on it (a reconciliation reading a whole org). It
// returns false at once when err is not rate limited or its delay is
// unknown or longer than max, and false when ctx ends first.
func SleepRateLimited(ctx context.Context, err error, max time.Duration) bool {
	d := DelayOf(err)
	if Of(err) != RateLimited || d <= 0 || d > max {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
