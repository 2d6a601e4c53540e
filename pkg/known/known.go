// Package known is the event log's "which of these event ids do you hold?"
// request on NATS: its subject, wire format and limits, the server the
// event log answers it with and the client the Okta System Log backfill
// asks with. The backfill asks before publishing an event older than the
// events stream's duplicate window, which JetStream no longer recognises:
// the event log is then the only record that the event already arrived.
//
// Wire format (JSON): request {"ids": ["…", …]} with 1 to MaxIDs ids;
// answer {"known": ["…", …]} (the ids held, in no order) or
// {"error": "…"} when the request is refused or the store failed.
package known

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/logging"
)

// MaxIDs is the most ids one request may carry.
const MaxIDs = 1000

// QueueGroup is the queue group the event log's replicas answer in, so that
// one of them answers each request.
const QueueGroup = "eventlog"

// Subject is where requests are sent: <ns>.eventlog.known.
func Subject(ns events.Namespace) string { return string(ns) + ".eventlog.known" }

// Request asks which of IDs the event log holds.
type Request struct {
	IDs []string `json:"ids"`
}

// Response is the answer: the ids held, or why there is no answer.
type Response struct {
	Known []string `json:"known"`
	Error string   `json:"error,omitempty"`
}

// Lookup reports which of ids are stored (store.Store.Known).
type Lookup func(ctx context.Context, ids []string) (map[string]bool, error)

// Serve answers requests on Subject(ns) in QueueGroup with lookup, each
// within timeout, until the subscription is drained or unsubscribed. Errors
// are answered (the caller must not take silence for "unknown") and logged;
// they name no id.
func Serve(nc *nats.Conn, ns events.Namespace, lookup Lookup, timeout time.Duration, log *slog.Logger) (*nats.Subscription, error) {
	sub, err := nc.QueueSubscribe(Subject(ns), QueueGroup, func(m *nats.Msg) {
		resp := answer(m.Data, lookup, timeout)
		if resp.Error != "" {
			log.Warn("eventlog.known refused", "error", resp.Error)
		}
		b, err := json.Marshal(resp)
		if err == nil {
			err = m.Respond(b)
		}
		if err != nil {
			log.Warn("eventlog.known: answering failed", logging.Err(err))
		}
	})
	if err != nil {
		return nil, fmt.Errorf("known.Serve: %w", err)
	}
	return sub, nil
}

func answer(data []byte, lookup Lookup, timeout time.Duration) Response {
	var req Request
	if err := json.Unmarshal(data, &req); err != nil {
		return Response{Error: "the request is not {\"ids\": [...]}"}
	}
	if len(req.IDs) == 0 || len(req.IDs) > MaxIDs {
		return Response{Error: fmt.Sprintf("%d ids asked, want 1 to %d", len(req.IDs), MaxIDs)}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	held, err := lookup(ctx, req.IDs)
	if err != nil {
		return Response{Error: "the event log's store failed: " + err.Error()}
	}
	resp := Response{Known: []string{}}
	for _, id := range req.IDs {
		if held[id] {
			resp.Known = append(resp.Known, id)
			delete(held, id)
		}
	}
	return resp
}

// ErrUnavailable wraps every failure to get an answer: no event log
// answering, a timeout, or the event log's own error.
var ErrUnavailable = errors.New("the event log did not answer")

// Client asks the event log.
type Client struct {
	nc      *nats.Conn
	subject string
	timeout time.Duration
}

// NewClient returns a client whose requests wait at most timeout each.
func NewClient(nc *nats.Conn, ns events.Namespace, timeout time.Duration) *Client {
	return &Client{nc: nc, subject: Subject(ns), timeout: timeout}
}

// Known returns which of ids the event log holds, asking in requests of at
// most MaxIDs. Any failure wraps ErrUnavailable: the caller must then treat
// every id as undecided, not as unknown.
func (c *Client) Known(ctx context.Context, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	for start := 0; start < len(ids); start += MaxIDs {
		chunk := ids[start:min(start+MaxIDs, len(ids))]
		body, err := json.Marshal(Request{IDs: chunk})
		if err != nil {
			return nil, err
		}
		rctx, cancel := context.WithTimeout(ctx, c.timeout)
		m, err := c.nc.RequestWithContext(rctx, c.subject, body)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		var resp Response
		if err := json.Unmarshal(m.Data, &resp); err != nil {
			return nil, fmt.Errorf("%w: an answer that is not JSON", ErrUnavailable)
		}
		if resp.Error != "" {
			return nil, fmt.Errorf("%w: %s", ErrUnavailable, resp.Error)
		}
		for _, id := range resp.Known {
			out[id] = true
		}
	}
	return out, nil
}
