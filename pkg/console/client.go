// Package console is a client of the Mia-Platform Console API for what idsync
// needs: a company's users, groups and role bindings (to compute a user's
// effective access), adding and removing company users, and project
// environments. It authenticates as a service account with the OAuth 2.0
// client-credentials grant (/api/m2m/oauth/token), refreshing the token
// before it expires. Errors carry an errclass class.
package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/idsync/idsync/pkg/callcount"
	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/events"
)

// Config says how to reach the Console.
type Config struct {
	URL          string        `env:"IDSYNC_CONSOLE_URL" help:"Mia-Platform Console base URL (e.g. https://console.example.com)"`
	ClientID     string        `env:"IDSYNC_CONSOLE_CLIENT_ID" help:"Console service account client id (client_secret_basic)"`
	ClientSecret config.Secret `env:"IDSYNC_CONSOLE_CLIENT_SECRET" help:"Console service account client secret"`
	Timeout      time.Duration `env:"IDSYNC_CONSOLE_TIMEOUT" default:"10s" help:"timeout of one Console API call"`
}

// Configured reports whether credentials are given (otherwise callers run
// in dry-run and cannot read effective access).
func (c Config) Configured() bool { return c.URL != "" && c.ClientID != "" && c.ClientSecret != "" }

// Validate reports every problem, one error each.
func (c Config) Validate() error {
	var errs []error
	set := 0
	for _, v := range []string{c.URL, c.ClientID, c.ClientSecret.Reveal()} {
		if v != "" {
			set++
		}
	}
	if set != 0 && set != 3 {
		errs = append(errs, errors.New("IDSYNC_CONSOLE_URL, IDSYNC_CONSOLE_CLIENT_ID and IDSYNC_CONSOLE_CLIENT_SECRET go together"))
	}
	if c.URL != "" {
		if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("IDSYNC_CONSOLE_URL: %q is not an http(s) URL", c.URL))
		}
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("IDSYNC_CONSOLE_TIMEOUT: %s, want more than 0", c.Timeout))
	}
	return errors.Join(errs...)
}

// TokenRefreshMargin is how long before expiry a token is replaced, so that
// no call goes out with a token about to lapse.
const TokenRefreshMargin = 5 * time.Minute

// Client calls the Console API.
type Client struct {
	base     *url.URL
	http     *http.Client
	pageSize int
	// shared coalesces the company listings behind FindUser and
	// EffectiveBindings across concurrent callers.
	shared sharedReads
}

// New returns a client. transport is the underlying RoundTripper (nil for
// the default); metrics or test decorators wrap it.
func New(cfg Config, transport http.RoundTripper) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !cfg.Configured() {
		return nil, errors.New("console.New: IDSYNC_CONSOLE_URL, IDSYNC_CONSOLE_CLIENT_ID and IDSYNC_CONSOLE_CLIENT_SECRET are required")
	}
	base, _ := url.Parse(strings.TrimRight(cfg.URL, "/") + "/")
	if transport == nil {
		// Enough idle connections for a consumer's workers (the default
		// keeps 2 per host).
		pooled := http.DefaultTransport.(*http.Transport).Clone()
		pooled.MaxIdleConnsPerHost = 128
		transport = pooled
	}
	transport = callcount.Transport(events.ProviderConsole, transport)
	plain := &http.Client{Transport: transport, Timeout: cfg.Timeout}
	cc := clientcredentials.Config{
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret.Reveal(),
		TokenURL:     base.JoinPath("api/m2m/oauth/token").String(),
		AuthStyle:    oauth2.AuthStyleInHeader,
	}
	tctx := context.WithValue(context.Background(), oauth2.HTTPClient, plain)
	ts := oauth2.ReuseTokenSourceWithExpiry(nil, cc.TokenSource(tctx), TokenRefreshMargin)
	return &Client{
		base:     base,
		http:     &http.Client{Transport: &oauth2.Transport{Source: ts, Base: transport}, Timeout: cfg.Timeout},
		pageSize: 200,
	}, nil
}

// SetPageSize sets how many items each listing page asks for (default 200).
func (c *Client) SetPageSize(n int) {
	if n > 0 {
		c.pageSize = n
	}
}

// apiError is the Console's error body.
type apiError struct {
	StatusCode int    `json:"statusCode"`
	Message    string `json:"message"`
}

// do sends a request and decodes a JSON answer into out (when not nil).
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) (*http.Response, error) {
	u := c.base.JoinPath(path)
	u.RawQuery = query.Encode()
	var rdr io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, errclass.AsPermanent(err)
		}
		rdr = strings.NewReader(string(b))
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rdr)
	if err != nil {
		return nil, errclass.AsPermanent(err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("client-key", "idsync")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, classifyTransport(method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, errclass.AsRetryable(fmt.Errorf("console %s %s: reading the answer: %w", method, path, err))
	}
	if resp.StatusCode >= 300 {
		return resp, classifyStatus(method, path, resp, raw)
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp, errclass.AsPermanent(fmt.Errorf("console %s %s: unexpected answer: %w", method, path, err))
		}
	}
	return resp, nil
}

func classifyTransport(method, path string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		e := fmt.Errorf("console %s %s: service account token: HTTP %d", method, path, re.Response.StatusCode)
		if re.Response.StatusCode >= 500 || re.Response.StatusCode == http.StatusTooManyRequests {
			return errclass.AsRetryable(e)
		}
		return errclass.AsPermanent(e)
	}
	return errclass.AsRetryable(fmt.Errorf("console %s %s: %w", method, path, err))
}

// classifyStatus maps an error answer to a class; Retry-After is honoured.
func classifyStatus(method, path string, resp *http.Response, raw []byte) error {
	var body apiError
	_ = json.Unmarshal(raw, &body)
	msg := body.Message
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	err := &StatusError{Status: resp.StatusCode, Message: msg, Method: method, Path: path}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return errclass.AsRateLimited(retryAfter(resp.Header.Get("Retry-After"), time.Now()), err)
	case resp.StatusCode == http.StatusNotFound:
		return errclass.AsNotFound(err)
	case resp.StatusCode >= 500:
		return errclass.AsRetryable(err)
	default:
		return errclass.AsPermanent(err)
	}
}

// StatusError is an error answer of the Console API.
type StatusError struct {
	Status       int
	Message      string
	Method, Path string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("console %s %s: %d %s", e.Method, e.Path, e.Status, e.Message)
}

// retryAfter parses Retry-After (seconds or an HTTP date); 30 s when absent.
func retryAfter(v string, now time.Time) time.Duration {
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		// More seconds than a Duration holds would overflow into a negative
		// delay: wait the longest Duration instead.
		if int64(s) > math.MaxInt64/int64(time.Second) {
			return math.MaxInt64
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), time.Second)
	}
	return 30 * time.Second
}

// list fetches every page of a listing (page from 1, per_page; the last
// page is told by x-total-pages, or by a short page when the header is absent).
func list[T any](ctx context.Context, c *Client, path string, query url.Values) ([]T, error) {
	l, err := listAll[T](ctx, c, path, query, c.pageSize)
	return l.items, err
}

// listing is what list reads, and whether it took more than one page: then
// it is not a snapshot of the listing (see absentRereads).
type listing[T any] struct {
	items []T
	paged bool
}

// listPagesInFlight bounds the pages of one listing read at once.
//
// Pages were read one after the other, so a listing of P pages took P
// round trips; every caller of FindUser waits for a listing that starts
// after it asked (sharedReads), and a user absent from a company of several
// pages waits for three (absentRereads). At 50 ms per call and ~1,000
// people that was ≈ 1 s per event, the whole of console-sync's ceiling
// (BENCHMARKS.md). Once page 1 has told the number of pages, the others
// are read at once, a few at a time: the listing takes about two round
// trips. It is no more a snapshot than before (paged stays true, so the
// re-reads of absentRereads still apply); its pages are only read closer
// together in time.
const listPagesInFlight = 8

// pagesAt reads pages 2..total of a listing, listPagesInFlight at a time,
// and returns them in order; the first error cancels the others.
func pagesAt[T any](ctx context.Context, c *Client, path string, query url.Values, perPage, total int) ([][]T, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := make([][]T, total-1)
	var (
		mu       sync.Mutex
		firstErr error // the first to fail, not a page the cancellation stopped
	)
	sem := make(chan struct{}, listPagesInFlight)
	var wg sync.WaitGroup
	for page := 2; page <= total; page++ {
		sem <- struct{}{}
		if ctx.Err() != nil {
			<-sem
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if _, err := c.do(ctx, http.MethodGet, path, pageQuery(query, page, perPage), nil, &out[page-2]); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				cancel()
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return out, ctx.Err()
}

// pageQuery is query asking for one page of perPage items.
func pageQuery(query url.Values, page, perPage int) url.Values {
	q := make(url.Values, len(query)+2)
	for k, v := range query {
		q[k] = v
	}
	q.Set("page", strconv.Itoa(page))
	q.Set("per_page", strconv.Itoa(perPage))
	return q
}

// listAll is list with pages of perPage items, telling whether the listing
// took several pages.
func listAll[T any](ctx context.Context, c *Client, path string, query url.Values, perPage int) (listing[T], error) {
	var all []T
	for page := 1; ; page++ {
		var items []T
		resp, err := c.do(ctx, http.MethodGet, path, pageQuery(query, page, perPage), nil, &items)
		if err != nil {
			return listing[T]{}, err
		}
		all = append(all, items...)
		total, terr := strconv.Atoi(resp.Header.Get("x-total-pages"))
		if terr == nil {
			if page >= total {
				return listing[T]{items: all, paged: page > 1}, nil
			}
			if page == 1 && total <= 10000 {
				rest, err := pagesAt[T](ctx, c, path, query, perPage, total)
				if err != nil {
					return listing[T]{}, err
				}
				for _, items := range rest {
					all = append(all, items...)
				}
				return listing[T]{items: all, paged: true}, nil
			}
			continue
		}
		if len(items) < perPage {
			return listing[T]{items: all, paged: page > 1}, nil
		}
		if page > 10000 {
			return listing[T]{}, errclass.AsPermanent(fmt.Errorf("console GET %s: more than 10000 pages", path))
		}
	}
}
