package reconcile

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/idsync/idsync/pkg/apierror"
	"github.com/idsync/idsync/pkg/events"
)

// ErrNoResponders: no consumer answers on the provider's subject (it is
// not running, or runs another version without reconciliation).
var ErrNoResponders = errors.New("no consumer answers")

// ReplyError is an error answer of the endpoint (apierror's shape).
type ReplyError struct {
	Provider string
	apierror.Body
}

func (e *ReplyError) Error() string {
	return fmt.Sprintf("reconcile %s: %s: %s", e.Provider, e.Code, e.Message)
}

// RequestOptions tune Ask.
type RequestOptions struct {
	// AnswerTimeout is how long the first answer may take (default 10s):
	// a consumer that runs answers at once, "started" or an error.
	AnswerTimeout time.Duration
	// Progress, when set, is called with each heartbeat.
	Progress func(Progress)
}

// Ask asks provider's sync consumer for a reconciliation and reads
// the streamed answer (protocol.go) until its report, or until ctx ends.
// A run that failed returns its report with an error; an error answer is a
// *ReplyError; no consumer at all is ErrNoResponders.
func Ask(ctx context.Context, nc *nats.Conn, ns events.Namespace, provider string, req Request, o RequestOptions) (Report, error) {
	if o.AnswerTimeout <= 0 {
		o.AnswerTimeout = 10 * time.Second
	}
	subject := Subject(ns, provider)
	inbox := nc.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return Report{}, fmt.Errorf("reconcile %s: %w", provider, err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	// A 10,000-item answer arrives faster than it is decoded: let the
	// subscription hold it all rather than drop it as a slow consumer.
	_ = sub.SetPendingLimits(-1, -1)
	body, _ := json.Marshal(req)
	if err := nc.PublishMsg(&nats.Msg{Subject: subject, Reply: inbox, Data: body}); err != nil {
		return Report{}, fmt.Errorf("reconcile %s: %w", provider, err)
	}
	if err := nc.FlushWithContext(ctx); err != nil {
		return Report{}, fmt.Errorf("reconcile %s: %w", provider, err)
	}
	rd := reader{provider: provider, subject: subject, sub: sub, wait: o.AnswerTimeout, progress: o.Progress}
	return rd.read(ctx)
}

// reader collects one answer.
type reader struct {
	provider string
	subject  string
	sub      *nats.Subscription
	// wait is how long the next message may take: the answer timeout
	// first, then a few heartbeats.
	wait     time.Duration
	progress func(Progress)
	started  bool
	items    []Item
	chunks   int
}

func (rd *reader) read(ctx context.Context) (Report, error) {
	for {
		m, err := rd.next(ctx)
		if err != nil {
			return Report{}, err
		}
		rep, done, err := rd.handle(m)
		if err != nil || done {
			return rep, err
		}
	}
}

func (rd *reader) next(ctx context.Context) (*nats.Msg, error) {
	wctx, cancel := context.WithTimeout(ctx, rd.wait)
	defer cancel()
	m, err := rd.sub.NextMsgWithContext(wctx)
	switch {
	case err == nil:
		return m, nil
	case errors.Is(err, nats.ErrNoResponders):
		// NATS answers a request nobody subscribes to with a 503 status,
		// which the client library turns into this error.
		return nil, fmt.Errorf("reconcile %s: %w on %s", rd.provider, ErrNoResponders, rd.subject)
	case ctx.Err() != nil:
		return nil, fmt.Errorf("reconcile %s: %w (the run goes on; its report will be in the event log)", rd.provider, ctx.Err())
	case !rd.started:
		return nil, fmt.Errorf("reconcile %s: no answer within %s", rd.provider, rd.wait)
	default:
		return nil, fmt.Errorf("reconcile %s: no word from the consumer for %s: it may have stopped (its report, if any, is in the event log)", rd.provider, rd.wait)
	}
}

// handle takes one message; done is true at the report.
func (rd *reader) handle(m *nats.Msg) (Report, bool, error) {
	// The 503 status itself, should the client library pass it on.
	if m.Header.Get("Status") == "503" {
		return Report{}, false, fmt.Errorf("reconcile %s: %w on %s", rd.provider, ErrNoResponders, rd.subject)
	}
	part := m.Header.Get(HeaderPart)
	switch {
	case part == PartError:
		var b apierror.Body
		if err := json.Unmarshal(m.Data, &b); err != nil || b.Code == "" {
			b = apierror.Body{Status: 500, Code: apierror.Internal, Message: "an error answer that does not decode"}
		}
		return Report{}, false, &ReplyError{Provider: rd.provider, Body: b}
	case part == PartStarted && !rd.started:
		var s Started
		if err := json.Unmarshal(m.Data, &s); err != nil {
			return Report{}, false, fmt.Errorf("reconcile %s: a started answer that does not decode: %w", rd.provider, err)
		}
		rd.started = true
		// Three heartbeats missed: the replica is gone, not slow.
		rd.wait = 3 * max(time.Duration(s.HeartbeatMS)*time.Millisecond, time.Second)
		return Report{}, false, nil
	case !rd.started:
		return Report{}, false, fmt.Errorf("reconcile %s: answer part %q before started", rd.provider, part)
	case part == PartProgress:
		var p Progress
		if rd.progress != nil && json.Unmarshal(m.Data, &p) == nil {
			rd.progress(p)
		}
		return Report{}, false, nil
	case part == PartItems:
		return Report{}, false, rd.chunk(m)
	case part == PartReport:
		return rd.report(m)
	}
	return Report{}, false, fmt.Errorf("reconcile %s: unknown answer part %q", rd.provider, part)
}

func (rd *reader) chunk(m *nats.Msg) error {
	n, err := strconv.Atoi(m.Header.Get(HeaderChunk))
	if err != nil || n != rd.chunks+1 {
		return fmt.Errorf("reconcile %s: items part %q after %d: a part of the answer was lost", rd.provider, m.Header.Get(HeaderChunk), rd.chunks)
	}
	rd.chunks = n
	sc := bufio.NewScanner(bytes.NewReader(m.Data))
	sc.Buffer(make([]byte, 0, 64<<10), max(len(m.Data)+1, 64<<10))
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var it Item
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			return fmt.Errorf("reconcile %s: an item of part %d does not decode: %w", rd.provider, n, err)
		}
		rd.items = append(rd.items, it)
	}
	return sc.Err()
}

func (rd *reader) report(m *nats.Msg) (Report, bool, error) {
	var f final
	if err := json.Unmarshal(m.Data, &f); err != nil {
		return Report{}, false, fmt.Errorf("reconcile %s: the report does not decode: %w", rd.provider, err)
	}
	if f.Chunks != rd.chunks || f.ItemCount != len(rd.items) {
		return Report{}, false, fmt.Errorf("reconcile %s: received %d items in %d parts, the report says %d in %d: a part of the answer was lost",
			rd.provider, len(rd.items), rd.chunks, f.ItemCount, f.Chunks)
	}
	rep := f.Report
	rep.Items = rd.items
	if rep.Items == nil {
		rep.Items = []Item{}
	}
	if rep.Error != "" {
		return rep, true, fmt.Errorf("reconcile %s: %s", rd.provider, rep.Error)
	}
	return rep, true, nil
}
