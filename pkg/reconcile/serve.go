package reconcile

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/idsync/idsync/pkg/apierror"
	"github.com/idsync/idsync/pkg/logging"
)

// maxChunkBytes bounds one items message, well under NATS's default
// maximum payload (1 MiB) and the server's configured one.
const maxChunkBytes = 256 << 10

// Serve answers requests on Subject(ns, provider) and runs the schedule
// until ctx ends; it then stops taking requests and returns once the runs
// in progress have finished (an apply finishes its current item and
// publishes a report marked interrupted).
func (r *Runner) Serve(ctx context.Context) error {
	subject := Subject(r.c.NS, r.c.Provider)
	var (
		mu       sync.Mutex
		closed   bool
		requests sync.WaitGroup
	)
	sub, err := r.c.Conn.NC.QueueSubscribe(subject, r.c.Consumer, func(m *nats.Msg) {
		mu.Lock()
		defer mu.Unlock()
		if closed {
			return // not answered: the requester sees its answer time out
		}
		// Runs take minutes; the subscription's goroutine only hands over.
		requests.Go(func() { r.serveRequest(ctx, m) })
	})
	if err != nil {
		return fmt.Errorf("reconcile: subscribing to %s: %w", subject, err)
	}
	r.c.Log.Info("reconciliation ready", "subject", subject, "interval", r.c.Config.Interval.String(),
		"scheduled_apply", r.c.Config.Apply)
	r.schedule(ctx)
	<-ctx.Done()
	_ = sub.Unsubscribe()
	mu.Lock()
	closed = true
	mu.Unlock()
	requests.Wait()
	r.wait()
	return nil
}

// serveRequest runs one requested reconciliation and streams the answer.
func (r *Runner) serveRequest(ctx context.Context, m *nats.Msg) {
	if m.Reply == "" {
		r.c.Log.Warn("reconcile: a request without a reply subject was ignored")
		return
	}
	w := &replyWriter{nc: r.c.Conn.NC, subject: m.Reply}
	req, err := DecodeRequest(m.Data)
	if err != nil {
		r.c.Log.Info("reconcile: refused a request", logging.Err(err))
		w.fail(err)
		return
	}
	prog := &progress{}
	stop := make(chan struct{})
	var beats sync.WaitGroup
	started := func(id string) {
		b, _ := json.Marshal(Started{ID: id, Provider: r.c.Provider, Consumer: r.c.Consumer, HeartbeatMS: r.c.Heartbeat.Milliseconds()})
		w.send(PartStarted, nil, b)
		beats.Go(func() { r.heartbeat(w, prog, stop) })
	}
	rep, err := r.run(ctx, runSpec{opts: Options(req), trigger: TriggerRequest, started: started, prog: prog})
	close(stop)
	beats.Wait()
	switch {
	case errors.Is(err, ErrBusy):
		w.fail(apierror.New(apierror.ReconcileBusy, err.Error()))
		return
	case rep.ID == "":
		r.c.Log.Error("reconcile: a requested run could not start", logging.Err(err))
		w.fail(apierror.Wrap(apierror.Internal, "the reconciliation could not start; the consumer's log says why", err))
		return
	}
	if err := w.stream(rep); err != nil {
		r.c.Log.Warn("reconcile: the report could not be sent to the requester (it is in the event log)", "report_id", rep.ID, logging.Err(err))
	}
}

func (r *Runner) heartbeat(w *replyWriter, p *progress, stop <-chan struct{}) {
	t := time.NewTicker(r.c.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		phase, _ := p.phase.Load().(string)
		b, _ := json.Marshal(Progress{Phase: phase, Done: int(p.done.Load()), Total: int(p.total.Load())})
		w.send(PartProgress, nil, b)
	}
}

// replyWriter publishes the parts of one answer; the heartbeat and the run
// share it.
type replyWriter struct {
	nc      *nats.Conn
	subject string
	mu      sync.Mutex
	err     error
}

func (w *replyWriter) send(part string, h nats.Header, data []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return
	}
	if h == nil {
		h = nats.Header{}
	}
	h.Set(HeaderPart, part)
	if err := w.nc.PublishMsg(&nats.Msg{Subject: w.subject, Header: h, Data: data}); err != nil {
		w.err = err
	}
}

// fail answers with an error (an *apierror.Error keeps its code; anything
// else is internal).
func (w *replyWriter) fail(err error) {
	var ae *apierror.Error
	if !errors.As(err, &ae) {
		ae = apierror.Wrap(apierror.Internal, "an unexpected failure", err)
	}
	status := ae.Code.Status()
	if status == 0 {
		status = http.StatusInternalServerError
	}
	b, _ := json.Marshal(apierror.Body{Status: status, Code: ae.Code, Message: ae.Message})
	w.send(PartError, nats.Header{HeaderErrorCode: {string(ae.Code)}}, b)
	w.flush()
}

// stream sends rep's items in chunks of JSON lines, then the report.
func (w *replyWriter) stream(rep Report) error {
	limit := min(maxChunkBytes, int(w.nc.MaxPayload())-8<<10)
	var buf bytes.Buffer
	chunks := 0
	flush := func() {
		if buf.Len() == 0 {
			return
		}
		chunks++
		w.send(PartItems, nats.Header{HeaderChunk: {strconv.Itoa(chunks)}}, bytes.Clone(buf.Bytes()))
		buf.Reset()
	}
	for _, it := range rep.Items {
		line, err := json.Marshal(it)
		if err != nil {
			return err
		}
		if buf.Len() > 0 && buf.Len()+len(line)+1 > limit {
			flush()
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	flush()
	f := final{Report: rep, Chunks: chunks}
	f.Items = nil
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	w.send(PartReport, nil, b)
	return w.flush()
}

func (w *replyWriter) flush() error {
	if err := w.nc.FlushTimeout(10 * time.Second); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}
