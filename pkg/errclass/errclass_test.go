package errclass_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/errclass"
)

func TestOfAndDelayOf(t *testing.T) {
	t.Parallel()
	base := errors.New("boom")
	tests := []struct {
		name      string
		err       error
		wantClass errclass.Class
		wantDelay time.Duration
	}{
		{"nil", nil, errclass.Unknown, 0},
		{"plain", base, errclass.Unknown, 0},
		{"retryable", errclass.AsRetryable(base), errclass.Retryable, 0},
		{"permanent", errclass.AsPermanent(base), errclass.Permanent, 0},
		{"not found", errclass.AsNotFound(base), errclass.NotFound, 0},
		{"rate limited", errclass.AsRateLimited(3*time.Second, base), errclass.RateLimited, 3 * time.Second},
		// Callers add context with %w; the class must survive every layer.
		{"wrapped once", fmt.Errorf("gitlab.Block: %w", errclass.AsPermanent(base)), errclass.Permanent, 0},
		{"wrapped twice", fmt.Errorf("handler: %w", fmt.Errorf("gitlab.Block: %w", errclass.AsRateLimited(time.Minute, base))), errclass.RateLimited, time.Minute},
		{"joined", errors.Join(base, errclass.AsNotFound(base)), errclass.NotFound, 0},
		// An adapter may reclassify what an inner layer said: the outermost
		// class wins, and its delay (not the inner one) applies.
		{"outer permanent over inner rate limit", errclass.AsPermanent(fmt.Errorf("x: %w", errclass.AsRateLimited(time.Hour, base))), errclass.Permanent, 0},
		{"outer rate limit over inner retryable", fmt.Errorf("y: %w", errclass.AsRateLimited(time.Second, errclass.AsRetryable(base))), errclass.RateLimited, time.Second},
		{"classified nil cause", &errclass.Error{Class: errclass.Retryable, Delay: 5 * time.Second}, errclass.Retryable, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := errclass.Of(tt.err); got != tt.wantClass {
				t.Errorf("Of = %v, want %v", got, tt.wantClass)
			}
			if got := errclass.DelayOf(tt.err); got != tt.wantDelay {
				t.Errorf("DelayOf = %v, want %v", got, tt.wantDelay)
			}
		})
	}
}

// Classification must not hide the cause from errors.Is.
func TestClassifiedErrorsUnwrap(t *testing.T) {
	t.Parallel()
	base := errors.New("boom")
	err := fmt.Errorf("ctx: %w", errclass.AsRetryable(base))
	if !errors.Is(err, base) {
		t.Error("errors.Is lost the cause")
	}
	if got := err.Error(); got != "ctx: boom" {
		t.Errorf("Error() = %q", got)
	}
	if got := (&errclass.Error{Class: errclass.NotFound}).Error(); got != "not_found" {
		t.Errorf("Error() without cause = %q", got)
	}
}

// The names are metric labels and DLQ header values: they must not change.
func TestClassString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		c    errclass.Class
		want string
	}{
		{errclass.Unknown, "unknown"},
		{errclass.Retryable, "retryable"},
		{errclass.RateLimited, "rate_limited"},
		{errclass.Permanent, "permanent"},
		{errclass.NotFound, "not_found"},
		{errclass.Class(42), "class(42)"},
	}
	for _, tt := range tests {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("Class(%d).String() = %q, want %q", int(tt.c), got, tt.want)
		}
	}
}
