package reconcile

import (
	"context"
	"errors"
	"time"

	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/guard"
	"github.com/idsync/idsync/pkg/outcome"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

// ResultOf is what applying an item did, from the outcome the consumer's
// code path recorded for it.
func ResultOf(r eventsv1.OutcomeResult) Result {
	switch r {
	case outcome.Granted, outcome.Revoked:
		return Applied
	case outcome.Unchanged:
		return AlreadyConverged
	case outcome.Skipped:
		return Skipped
	case outcome.Planned:
		return Planned
	}
	return Failed
}

// Outcome is the person as an outcome names them.
func (p Person) Outcome() outcome.Person {
	return outcome.Person{SourceID: p.SourceID, Email: p.Email, Login: p.Login, ProviderID: p.ProviderID}
}

// QuotaWait is the longest a reconciliation waits for a provider's
// rate-limit reset (Okta's windows are a minute) before it gives up on an
// item.
const QuotaWait = 2 * time.Minute

// WaitQuota sleeps through a rate-limited error's delay, up to QuotaWait,
// so that a reconciliation gets through a quota smaller than the org
// instead of failing item after item; false when err is something else —
// the removal guard's pause too, which is for an operator to lift — or ctx
// ends first.
func WaitQuota(ctx context.Context, err error) bool {
	if errors.Is(err, guard.ErrPaused) {
		return false
	}
	return errclass.SleepRateLimited(ctx, err, QuotaWait)
}
