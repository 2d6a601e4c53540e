package load

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"time"
)

// Held is a delivery the gateway has accepted and is reading, whose body the
// sender holds back: a request certainly in flight, to stop a gateway under.
type Held struct {
	body []byte
	pw   *io.PipeWriter
	done chan Attempt
}

// Hold starts d with "Expect: 100-continue" and returns once the gateway
// has read the headers, authenticated the request and asked for the body:
// the handler is running and waits for the rest.
func (s *Sender) Hold(ctx context.Context, d Delivery) (*Held, error) {
	pr, pw := io.Pipe()
	h := &Held{body: d.Body, pw: pw, done: make(chan Attempt, 1)}
	asked := make(chan struct{})
	trace := &httptrace.ClientTrace{Got100Continue: func() { close(asked) }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPost, s.Base+d.Route, pr)
	if err != nil {
		return nil, err
	}
	req.Header = d.Header.Clone()
	req.Header.Set("Expect", "100-continue")
	req.ContentLength = int64(len(d.Body))
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{DisableKeepAlives: true, ExpectContinueTimeout: time.Minute}}
	go func() {
		resp, err := client.Do(req)
		if err != nil {
			h.done <- Attempt{Err: classify(err)}
			return
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		h.done <- Attempt{Status: resp.StatusCode, RetryAfter: resp.Header.Get("Retry-After")}
	}()
	select {
	case <-asked:
		return h, nil
	case a := <-h.done:
		return nil, fmt.Errorf("load.Hold: answered before the body was asked for: %+v", a)
	case <-ctx.Done():
		pw.CloseWithError(ctx.Err())
		return nil, ctx.Err()
	}
}

// Release sends the body and returns the answer.
func (h *Held) Release(ctx context.Context) Attempt {
	go func() {
		_, err := io.Copy(h.pw, bytes.NewReader(h.body))
		h.pw.CloseWithError(err)
	}()
	select {
	case a := <-h.done:
		return a
	case <-ctx.Done():
		return Attempt{Err: ErrTimeout}
	}
}
