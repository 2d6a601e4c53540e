package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/apierror"
	"github.com/idsync/idsync/pkg/bus"
	"github.com/idsync/idsync/pkg/config"
	"github.com/idsync/idsync/pkg/consolehook"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/httpserver"
	"github.com/idsync/idsync/pkg/logging"
	"github.com/idsync/idsync/pkg/testdata"
	"github.com/idsync/idsync/services/gateway"
)

// fuzzPublisher stores what the gateway publishes, or fails as the bus can.
// It checks every message as a consumer would read it; a message no
// consumer could decode is a bug, reported by the next fuzz input.
type fuzzPublisher struct {
	mu     sync.Mutex
	fail   bus.PublishFailure // 0: store; -1: an error that is not a *bus.PublishError
	stored int                // messages stored, okta.verify.email records aside
	bad    error
}

func (p *fuzzPublisher) PublishAll(_ context.Context, msgs []*nats.Msg) ([]bus.Ack, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range msgs {
		if err := checkPublished(m); err != nil && p.bad == nil {
			p.bad = err
		}
	}
	switch {
	case p.fail < 0:
		return nil, errors.New("connection refused")
	case p.fail > 0:
		return nil, &bus.PublishError{Failure: p.fail, Subject: msgs[0].Subject, Err: errors.New("fuzz")}
	}
	for _, m := range msgs {
		if m.Header.Get(events.HeaderType) != events.OktaVerifyEmail {
			p.stored++
		}
	}
	return make([]bus.Ack, len(msgs)), nil
}

// checkPublished reads m as a consumer does and checks that its attributes
// reach the bus unchanged (nats.go trims header values and turns CR and LF
// into spaces).
func checkPublished(m *nats.Msg) error {
	ev, err := events.Default().Decode(events.DefaultNamespace, m.Subject, m.Header, m.Data)
	if err != nil {
		return fmt.Errorf("published an event no consumer can decode: %w", err)
	}
	if m.Header.Get(events.HeaderMsgID) != ev.ID {
		return fmt.Errorf("Nats-Msg-Id %q is not the event id %q", m.Header.Get(events.HeaderMsgID), ev.ID)
	}
	for _, k := range []string{events.HeaderID, events.HeaderSubject, events.HeaderSource, events.HeaderMsgID} {
		v := m.Header.Get(k)
		if v != strings.TrimSpace(v) || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return fmt.Errorf("header %s %q would change on the wire", k, v)
		}
	}
	return nil
}

func (p *fuzzPublisher) reset(fail bus.PublishFailure) (stored int, bad error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	stored, bad = p.stored, p.bad
	p.fail, p.stored, p.bad = fail, 0, nil
	return stored, bad
}

// fuzzGateway is the gateway's handler, as served, over a fuzzPublisher.
func fuzzGateway(f *testing.F, hook gateway.HookConfig) (http.Handler, *fuzzPublisher) {
	pub := &fuzzPublisher{}
	gw, err := gateway.New(hook, events.DefaultNamespace, pub, logging.Discard(), prometheus.NewRegistry())
	if err != nil {
		f.Fatal(err)
	}
	gw.Start()
	f.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		gw.Close(ctx)
	})
	return gw.Handler(httpserver.NewHealth(nil), http.NotFoundHandler()), pub
}

var fuzzRoutes = []string{"/okta/events", "/okta/create/user", "/okta/delete/user", "/okta/verify/email", "/console/events", "/console/update/user/permissions", "/nowhere"}

// FuzzHandler: any request to any route, with any headers and body, and a
// bus that may fail in any way it can. The gateway never panics or answers
// 500; its only 5xx is 503 with Retry-After when the bus failed; every
// refusal is the catalog's JSON error with a sane request id; a 2xx needs
// the route's credentials; and what it publishes is exactly what it counts,
// each message readable by every consumer.
func FuzzHandler(f *testing.F) {
	limitMinimize(2 * time.Second)
	handler, pub := fuzzGateway(f, testHookConfig())
	okta := oktaBatch(logEvent("fuzz-1", "user.lifecycle.create", "00u1"), logEvent("fuzz-2", "user.session.start", "00u2"))
	f.Add(uint8(0), uint8(0), uint8(1), "Content-Type: application/json\r\n", okta, uint8(0))
	f.Add(uint8(2), uint8(0), uint8(1), "", oktaBatch(logEvent("fuzz-3", "user.lifecycle.delete.initiated", "00u3")), uint8(2))
	f.Add(uint8(0), uint8(1), uint8(1), "X-Okta-Verification-Challenge: chal\r\n", []byte(nil), uint8(0))
	f.Add(uint8(3), uint8(0), uint8(1), "Content-Type: application/json\r\n", testdata.Okta("registration-hook-ssr-request"), uint8(0))
	f.Add(uint8(4), uint8(0), uint8(2), "", testdata.Console("company_user_added"), uint8(0))
	f.Add(uint8(5), uint8(0), uint8(2), "Content-Type: application/json; charset=utf-8\r\n", testdata.Console("project_created"), uint8(1))
	f.Add(uint8(4), uint8(0), uint8(2), "Content-Encoding: gzip\r\n", testdata.Console("tag_created"), uint8(0))
	f.Add(uint8(0), uint8(0), uint8(4), "X-Request-Id: <script>\r\n", okta, uint8(0))
	f.Add(uint8(0), uint8(0), uint8(1), "", []byte(`{"data":{"events":[{"uuid":"a\r\nb","published":"2026-11-20T10:00:00Z","eventType":"user.lifecycle.create","target":[{"id":"00u1","type":"User"}]}]}}`), uint8(0))
	f.Add(uint8(4), uint8(0), uint8(2), "", []byte(`{"eventName":"company_user_added","eventTimestamp":1,"payload":{"userId":" ","resource":{"companyId":"c"}}}`), uint8(0))
	f.Add(uint8(6), uint8(2), uint8(3), "", []byte(`{}`), uint8(5))
	f.Fuzz(func(t *testing.T, route, method, auth uint8, header string, body []byte, busMode uint8) {
		path := fuzzRoutes[int(route)%len(fuzzRoutes)]
		m := []string{"POST", "GET", "PUT", "post", "DELETE"}[int(method)%5]
		failure := []bus.PublishFailure{0, bus.Unavailable, bus.Timeout, bus.Full, bus.TooLarge, -1}[int(busMode)%6]
		pub.reset(failure)

		req := httptest.NewRequest(m, path, bytes.NewReader(body))
		for line := range strings.SplitSeq(header, "\r\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && k != "" {
				req.Header.Add(k, strings.TrimSpace(v))
			}
		}
		// auth: 0 none, 1 the Okta secret, 2 the Console signature, 3 both,
		// 4 the Okta secret twice, 5 a wrong secret.
		if auth%6 == 1 || auth%6 == 3 {
			req.Header.Set("Authorization", oktaSecret)
		}
		if auth%6 == 2 || auth%6 == 3 {
			req.Header.Set(consolehook.HeaderSignature, consolehook.Sign(body, consoleSecret))
		}
		if auth%6 == 4 {
			req.Header["Authorization"] = []string{oktaSecret, oktaSecret}
		}
		if auth%6 == 5 {
			req.Header.Set("Authorization", "wrong-wrong-wrong-wrong")
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		stored, bad := pub.reset(0)
		if bad != nil {
			t.Fatal(bad)
		}
		checkAnswer(t, req, body, rec, failure, stored)
	})
}

func checkAnswer(t *testing.T, req *http.Request, body []byte, rec *httptest.ResponseRecorder, failure bus.PublishFailure, stored int) {
	t.Helper()
	status := rec.Code
	if status >= 500 && (status != http.StatusServiceUnavailable || failure == 0) {
		t.Fatalf("%s %s: %d %s", req.Method, req.URL.Path, status, rec.Body)
	}
	if status != http.StatusOK && stored != 0 {
		t.Fatalf("%s %s: %d, but %d events were stored", req.Method, req.URL.Path, status, stored)
	}
	if status >= 400 {
		checkErrorBody(t, rec)
		return
	}
	okta := req.Header.Values("Authorization")
	console := req.Header.Values(consolehook.HeaderSignature)
	switch {
	case strings.HasPrefix(req.URL.Path, "/okta/") && (len(okta) != 1 || !config.Secrets{oktaSecret, oktaNext}.Match([]byte(okta[0]))):
		t.Fatalf("%s %s answered %d with Authorization %q", req.Method, req.URL.Path, status, okta)
	case strings.HasPrefix(req.URL.Path, "/console/") && (len(console) != 1 || !consolehook.Verify(body, console[0], config.Secrets{consoleSecret, consoleNext})):
		t.Fatalf("%s %s answered %d with signatures %q", req.Method, req.URL.Path, status, console)
	case req.Method == "GET" && strings.HasPrefix(req.URL.Path, "/okta/"):
		challenge := req.Header.Get("X-Okta-Verification-Challenge")
		var v struct{ Verification string }
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil || (utf8.ValidString(challenge) && v.Verification != challenge) {
			t.Fatalf("challenge %q answered %s", challenge, rec.Body)
		}
	case req.URL.Path == "/okta/verify/email":
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("inline hook answered %q", rec.Body)
		}
	default:
		var res struct{ Published, Duplicates, Ignored int }
		if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil || res.Published+res.Duplicates != stored {
			t.Fatalf("answered %s, but %d events were stored", rec.Body, stored)
		}
	}
}

func checkErrorBody(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%d with Content-Type %q: %s", rec.Code, ct, rec.Body)
	}
	var b apierror.Body
	if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
		t.Fatalf("%d: error body %q: %v", rec.Code, rec.Body, err)
	}
	e, ok := apierror.Lookup(b.Code)
	if !ok || e.Status != rec.Code || b.Status != rec.Code || b.Message == "" {
		t.Fatalf("%d: error body %+v (catalog %+v, %v)", rec.Code, b, e, ok)
	}
	if id := b.RequestID; id == "" || len(id) > 64 || id != rec.Header().Get("X-Request-Id") || strings.ContainsFunc(id, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		t.Fatalf("request id %q, header %q", id, rec.Header().Get("X-Request-Id"))
	}
	if rec.Code == http.StatusServiceUnavailable && rec.Header().Get("Retry-After") == "" {
		t.Fatal("503 without Retry-After")
	}
}

// FuzzOktaAuthorization: the Okta endpoints let a request through exactly
// when its authorization header (whatever name it is configured as) is given
// once and equals one of the configured secrets; no header or an empty one
// is auth_missing, anything else auth_invalid.
func FuzzOktaAuthorization(f *testing.F) {
	limitMinimize(2 * time.Second)
	f.Add(true, uint8(1), oktaSecret, "", "")
	f.Add(false, uint8(1), oktaNext, "", "")
	f.Add(true, uint8(2), oktaSecret, oktaNext, "")
	f.Add(true, uint8(1), oktaSecret+" ", "", "")
	f.Add(true, uint8(1), "", "", "")
	f.Add(false, uint8(3), "x", oktaNext, oktaSecret)
	handlers := map[bool]http.Handler{}
	for _, std := range []bool{true, false} {
		hook := testHookConfig()
		if !std {
			hook.OktaAuthHeader = "X-Okta-Hook-Secret"
		}
		handlers[std], _ = fuzzGateway(f, hook)
	}
	secrets := config.Secrets{oktaSecret, oktaNext}
	f.Fuzz(func(t *testing.T, std bool, n uint8, a, b, c string) {
		name := "Authorization"
		if !std {
			name = "X-Okta-Hook-Secret"
		}
		values := []string{a, b, c}[:n%4]
		req := httptest.NewRequest("GET", "/okta/events", nil)
		req.Header.Set("X-Okta-Verification-Challenge", "c")
		if len(values) > 0 {
			req.Header[http.CanonicalHeaderKey(name)] = values
		}
		rec := httptest.NewRecorder()
		handlers[std].ServeHTTP(rec, req)
		want, code := http.StatusOK, apierror.Code("")
		switch {
		case len(values) == 0 || (len(values) == 1 && values[0] == ""):
			want, code = http.StatusUnauthorized, apierror.AuthMissing
		case len(values) > 1 || !secrets.Match([]byte(values[0])):
			want, code = http.StatusUnauthorized, apierror.AuthInvalid
		}
		if rec.Code != want {
			t.Fatalf("%s: %q answered %d, want %d", name, values, rec.Code, want)
		}
		if code != "" {
			checkErrorBody(t, rec)
			if !strings.Contains(rec.Body.String(), `"code":"`+string(code)+`"`) {
				t.Fatalf("%s: %q answered %s, want %s", name, values, rec.Body, code)
			}
		}
		for _, v := range values {
			if len(v) >= 8 && strings.Contains(rec.Body.String(), v) {
				t.Fatalf("the answer repeats the credential %q: %s", v, rec.Body)
			}
		}
	})
}

// FuzzOktaVerification: Okta's one-time challenge comes back exactly, as
// JSON, when it has 1 to 1024 bytes (a value that is not UTF-8 comes back
// as JSON can carry it); anything else is a schema_violation.
func FuzzOktaVerification(f *testing.F) {
	limitMinimize(2 * time.Second)
	handler, _ := fuzzGateway(f, testHookConfig())
	for _, c := range []string{"chal-123", "", strings.Repeat("c", 1024), strings.Repeat("c", 1025), `"},"x":{"`, "</script>\u2028", "\xff\xfe", "a\x00b"} {
		f.Add(c, uint8(0))
	}
	f.Add("chal", uint8(1))
	f.Fuzz(func(t *testing.T, challenge string, route uint8) {
		path := []string{"/okta/events", "/okta/create/user", "/okta/delete/user"}[int(route)%3]
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Authorization", oktaSecret)
		req.Header["X-Okta-Verification-Challenge"] = []string{challenge}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if challenge == "" || len(challenge) > 1024 {
			if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"code":"schema_violation"`) {
				t.Fatalf("challenge of %d bytes: %d %s", len(challenge), rec.Code, rec.Body)
			}
			checkErrorBody(t, rec)
			return
		}
		var v map[string]string
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &v) != nil || len(v) != 1 {
			t.Fatalf("challenge %q: %d %s", challenge, rec.Code, rec.Body)
		}
		// JSON carries each byte that is not UTF-8 as U+FFFD.
		if want := string([]rune(challenge)); v["verification"] != want {
			t.Fatalf("challenge %q came back as %q", challenge, v["verification"])
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("Content-Type %q", ct)
		}
	})
}

// limitMinimize caps the time spent minimizing each new input at d unless
// -fuzzminimizetime was given: the default minute goes, on a webhook body,
// to a few dozen executions instead of fuzzing (pkg/internal/fuzzing does the
// same for the pkg module, which this module cannot import).
func limitMinimize(d time.Duration) {
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.fuzzminimizetime" })
	if fl := flag.Lookup("test.fuzzminimizetime"); fl != nil && !explicit {
		_ = fl.Value.Set(d.String())
	}
}
