package syncsvc

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/guard"
	"github.com/idsync/idsync/pkg/outcome"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

// OktaPerson is the person an okta.create.user / okta.delete.user event is
// about: the Okta login doubles as the email address.
func OktaPerson(p *eventsv1.OktaUserLifecycle) outcome.Person {
	login := p.GetUser().GetLogin()
	email := ""
	if strings.Contains(login, "@") {
		email = login
	}
	return outcome.Person{SourceID: p.GetUser().GetId(), Email: email, Login: login}
}

// Failed handles an error met while acting: a permanent one (the message is
// going to the dead-letter stream) is recorded as a failed outcome; every
// error is returned for the consumer runtime to settle by its class.
func (d *Deps) Failed(ctx context.Context, ev events.Event, rec outcome.Record, err error) error {
	if errors.Is(err, guard.ErrPaused) {
		return err
	}
	if errclass.Of(err) == errclass.Permanent {
		rec.Result = outcome.Failed
		rec.Reason = err.Error()
		rec.ErrorClass = errclass.Permanent.String()
		if perr := d.Outcomes.Publish(ctx, ev, rec); perr != nil {
			return errclass.AsRetryable(perr)
		}
	}
	return err
}

// Removal checks the guards before a removal: a protected account is
// skipped (ok false, with the reason); a tripped threshold returns
// guard.ErrPaused for the message to wait. ids identify the person (the
// first non-empty one is what the threshold counts, hashed). In dry-run
// nothing is counted.
func (d *Deps) Removal(ctx context.Context, ids ...string) (ok bool, reason string, err error) {
	if d.Guard.Protected(ids...) {
		return false, "protected account (IDSYNC_PROTECTED_ACCOUNTS)", nil
	}
	if d.DryRun {
		return true, "", nil
	}
	if err := d.Guard.AllowRemoval(ctx, personKey(ids)); err != nil {
		return false, "", err
	}
	return true, "", nil
}

func personKey(ids []string) string {
	for _, id := range ids {
		if id != "" {
			sum := sha256.Sum256([]byte(strings.ToLower(id)))
			return hex.EncodeToString(sum[:12])
		}
	}
	return "unknown"
}
