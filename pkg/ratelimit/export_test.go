package ratelimit

import "time"

// SetClock replaces t's clock (tests only).
func SetClock(t *Transport, now func() time.Time) { t.now = now }
