package load

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Attempt is one request and what came back.
type Attempt struct {
	Status     int
	Code       string // the error code of a JSON error answer
	RetryAfter string
	// Err is the transport error, classified: refused (nothing listening),
	// timeout, or broken (reset, EOF: the connection died under the request).
	Err string
}

// Result is a delivery and every attempt made to deliver it.
type Result struct {
	Delivery Delivery
	Attempts []Attempt
	// OK: the last attempt was answered 2xx.
	OK bool
}

// Sender posts deliveries to the gateway and retries each until it is
// answered 2xx, like Okta and a well-behaved Console integration: after the
// Retry-After of a 503, or shortly after a connection failure.
type Sender struct {
	Base   string
	Client *http.Client
	// ConnRetry is the pause after a transport error (default 100ms).
	ConnRetry time.Duration

	mu      sync.Mutex
	results []*Result
	ok      int
	changed chan struct{}
}

// NewSender returns a sender to the gateway at base (http://host:port).
func NewSender(base string) *Sender {
	return &Sender{
		Base: base, ConnRetry: 100 * time.Millisecond, changed: make(chan struct{}),
		// A fresh connection per request: an idle keep-alive connection
		// closed by a stopping gateway would fail a request that never
		// reached it, which says nothing about the gateway.
		Client: &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}},
	}
}

// Send delivers d, retrying until 2xx or until ctx ends.
func (s *Sender) Send(ctx context.Context, d Delivery) *Result {
	r := &Result{Delivery: d}
	s.mu.Lock()
	s.results = append(s.results, r)
	s.mu.Unlock()
	for ctx.Err() == nil {
		a := s.attempt(ctx, d)
		s.mu.Lock()
		r.Attempts = append(r.Attempts, a)
		if a.Status >= 200 && a.Status < 300 {
			r.OK = true
			s.ok++
			close(s.changed)
			s.changed = make(chan struct{})
		}
		s.mu.Unlock()
		if r.OK {
			return r
		}
		wait := s.ConnRetry
		if a.Status != 0 {
			wait = time.Second
			if n, err := strconv.Atoi(a.RetryAfter); err == nil && n > 0 {
				wait = time.Duration(n) * time.Second
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
	return r
}

func (s *Sender) attempt(ctx context.Context, d Delivery) Attempt {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Base+d.Route, bytes.NewReader(d.Body))
	if err != nil {
		return Attempt{Err: err.Error()}
	}
	req.Header = d.Header.Clone()
	resp, err := s.Client.Do(req)
	if err != nil {
		return Attempt{Err: classify(err)}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	a := Attempt{Status: resp.StatusCode, RetryAfter: resp.Header.Get("Retry-After")}
	var e struct{ Code string }
	if resp.StatusCode >= 300 && json.Unmarshal(body, &e) == nil {
		a.Code = e.Code
	}
	return a
}

// Transport error classes.
const (
	ErrRefused = "refused"
	ErrTimeout = "timeout"
	ErrBroken  = "broken"
)

func classify(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return ErrRefused
	case errors.As(err, &ne) && ne.Timeout():
		return ErrTimeout
	default:
		return ErrBroken + ": " + err.Error()
	}
}

// Run delivers every d with workers in parallel, starting at most rate
// deliveries a second (0: as fast as the workers go), and returns when all
// are answered 2xx or ctx ends.
func (s *Sender) Run(ctx context.Context, ds []Delivery, workers, rate int) {
	work := make(chan Delivery)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for d := range work {
				s.Send(ctx, d)
			}
		})
	}
	var tick <-chan time.Time
	if rate > 0 {
		t := time.NewTicker(time.Second / time.Duration(rate))
		defer t.Stop()
		tick = t.C
	}
	for _, d := range ds {
		if tick != nil {
			select {
			case <-tick:
			case <-ctx.Done():
			}
		}
		select {
		case work <- d:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(work)
	wg.Wait()
}

// WaitOK blocks until n deliveries have been answered 2xx, or ctx ends.
func (s *Sender) WaitOK(ctx context.Context, n int) error {
	for {
		s.mu.Lock()
		ok, ch := s.ok, s.changed
		s.mu.Unlock()
		if ok >= n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Results returns every delivery sent so far with its attempts.
func (s *Sender) Results() []*Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Result, len(s.results))
	for i, r := range s.results {
		cp := *r
		cp.Attempts = append([]Attempt(nil), r.Attempts...)
		out[i] = &cp
	}
	return out
}

// Answered counts the attempts answered with status so far.
func (s *Sender) Answered(status int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.results {
		for _, a := range r.Attempts {
			if a.Status == status {
				n++
			}
		}
	}
	return n
}
