package loadgen

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"time"
)

// Build appends the body of request seq to dst and returns it with the
// request's headers.
type Build func(dst []byte, seq uint64) ([]byte, http.Header)

// NewClient returns an HTTP/1.1 keep-alive client that keeps up to conns
// connections open to one host and opens no more: one per sender.
func NewClient(conns int) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			MaxConnsPerHost:     conns,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
}

// HTTP returns senders that POST the bodies build makes to url. Each sender
// reuses its body buffer, so that the generator's own garbage stays small
// next to the system under test's.
func HTTP(client *http.Client, url string, build Build) NewOp {
	return func(int) Op {
		var buf []byte
		return func(ctx context.Context, seq uint64) error {
			body, hdr := build(buf[:0], seq)
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
			if err != nil {
				return err
			}
			req.Header = hdr
			resp, err := client.Do(req)
			if err != nil {
				buf = nil // the transport may still be reading it
				return err
			}
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				// An early answer (413) may come before the body was written
				// out: do not reuse it.
				buf = nil
				return &StatusError{Code: resp.StatusCode}
			}
			buf = body
			return err
		}
	}
}
