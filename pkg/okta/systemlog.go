package okta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/idsync/idsync/pkg/errclass"
)

// LogQuery selects System Log events (GET /api/v1/logs), always in
// ascending order of publication.
type LogQuery struct {
	// Since is the inclusive lower bound of published.
	Since time.Time
	// Until is the exclusive upper bound; with it the request is "bounded"
	// (finite pages, ordered by published). Zero makes it a "polling"
	// request, whose next link never ends.
	Until time.Time
	// Filter is a System Log filter expression (eventType eq "…" or …).
	Filter string
	// Limit is the page size (Okta: 100 by default, at most 1000).
	Limit int
	// After is the cursor of the page to read, from the previous page's
	// next link; empty for the first page.
	After string
}

// LogPage is one page of System Log events.
type LogPage struct {
	// Events are the events exactly as Okta sent them, one JSON object
	// each, so that a reader maps them as it maps an event hook's events.
	Events []json.RawMessage
	// Next is the cursor of the next page; empty when Okta linked none.
	Next string
}

// oktaTime is the time format Okta's System Log takes and writes.
const oktaTime = "2006-01-02T15:04:05.000Z"

// LogPage reads one page of the System Log through the SDK's SystemLogAPI,
// paced like every call of the client. Errors are classified (pkg/errclass):
// a spent quota or a 429 is RateLimited with the delay Okta's headers ask.
func (c *Client) LogPage(ctx context.Context, q LogQuery) (LogPage, error) {
	const op = "list log events"
	if err := c.pacer.Check(); err != nil {
		return LogPage{}, c.classify(op, nil, err)
	}
	req := c.api.SystemLogAPI.ListLogEvents(ctx).Since(q.Since.UTC().Format(oktaTime)).SortOrder("ASCENDING")
	if !q.Until.IsZero() {
		req = req.Until(q.Until.UTC().Format(oktaTime))
	}
	if q.Filter != "" {
		req = req.Filter(q.Filter)
	}
	if q.Limit > 0 {
		req = req.Limit(int32(min(q.Limit, 1000)))
	}
	if q.After != "" {
		req = req.After(q.After)
	}
	_, resp, err := req.Execute()
	// The SDK decodes the page into its typed model, which refuses some
	// values Okta sends (and keeps others only as untyped leftovers). The
	// page is read from the body instead, which the SDK leaves readable:
	// a 200 whose body is a JSON array is the page, whatever the model
	// made of it.
	if resp != nil && resp.Response != nil && resp.StatusCode == http.StatusOK {
		body, rerr := io.ReadAll(resp.Body)
		var events []json.RawMessage
		if rerr == nil && json.Unmarshal(body, &events) == nil {
			return c.logPage(op, resp.Header, events)
		}
		if err == nil {
			err = errors.New("the answer is not a JSON array of events")
		}
		return LogPage{}, errclass.AsRetryable(fmt.Errorf("okta %s: %w", op, err))
	}
	if err == nil {
		err = errors.New("no answer")
	}
	return LogPage{}, c.classify(op, resp, err)
}

func (c *Client) logPage(op string, h http.Header, events []json.RawMessage) (LogPage, error) {
	next, _, err := NextAfter(h)
	if err != nil {
		return LogPage{}, errclass.AsPermanent(fmt.Errorf("okta %s: %w", op, err))
	}
	return LogPage{Events: events, Next: next}, nil
}

// Logs reads the System Log from q to its last page, calling page for each
// in order; an error from page stops the reading and is returned. The last
// page is the one without a next link, or — since a polling request links
// a next page for ever — the first empty one. When Okta's quota is spent
// Logs waits for the reset and reads the same page again, so a reading
// costs no refused call beyond the pacer's.
func (c *Client) Logs(ctx context.Context, q LogQuery, page func(LogPage) error) error {
	for range maxPages {
		p, err := c.LogPage(ctx, q)
		if errclass.Of(err) == errclass.RateLimited {
			if err := sleep(ctx, errclass.DelayOf(err)); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		if err := page(p); err != nil {
			return err
		}
		if p.Next == "" || len(p.Events) == 0 {
			return nil
		}
		if p.Next == q.After {
			return errclass.AsPermanent(fmt.Errorf("okta list log events: the next page's cursor repeats the current one"))
		}
		q.After = p.Next
	}
	return errclass.AsPermanent(fmt.Errorf("okta list log events: more than %d pages", maxPages))
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(max(d, 10*time.Millisecond))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
