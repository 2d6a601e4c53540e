package gateway_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/apierror"
	"github.com/idsync/idsync/pkg/consolehook"
	"github.com/idsync/idsync/pkg/testdata"
)

// hostile is one malformed or malicious request. It is written on its own
// TCP connection exactly as given (raw, or method, path, header and body
// framed with a Content-Length), so that it can carry what net/http's client
// would refuse to send.
type hostile struct {
	name         string
	method, path string
	header       http.Header
	body         []byte
	raw          []byte // the whole request, instead of method … body
	halfClose    bool   // shut the write side once sent (a body cut short)
	// exchange replaces the single write-then-read (slow senders).
	exchange func(t *testing.T, s *served) reply
	// setup runs before the stream's sequence is noted (the original of a replay).
	setup func(t *testing.T, s *served)

	status int
	// code is the catalog code of the JSON error body; "" when net/http
	// refuses the request before any idsync code runs (plain text, no code)
	// or for the deliberate 2xx.
	code     apierror.Code
	contains string // a substring of the answer's body
}

// Test settings small enough that slow senders are cut off quickly, and
// large enough that a well-formed request on a loaded machine is not.
const (
	hostileHeaderTimeout = 2 * time.Second
	hostileReadTimeout   = 5 * time.Second
	hostileHeaderBytes   = 8 << 10
)

// TestHostileRequests sends every hostile request to the gateway as its main
// runs it (gateway.Run on a loopback listener, the production http.Server
// limits) and checks, for each: the status is the expected 4xx; the body is
// the catalog's JSON error with the expected code; nothing new reached the
// stream; and a well-formed delivery right after it still succeeds. The one
// deliberate 2xx is an exact replay of an Okta batch: Okta retries
// deliveries, so the answer is 200 with the event stored once. Requests that
// are not HTTP/1.1 as net/http accepts it are refused by net/http itself
// (plain text, no code); two of those are 5xx by RFC (see protocolRows).
func TestHostileRequests(t *testing.T) {
	s := serveGateway(t, map[string]string{
		"IDSYNC_HTTP_READ_HEADER_TIMEOUT": hostileHeaderTimeout.String(),
		"IDSYNC_HTTP_READ_TIMEOUT":        hostileReadTimeout.String(),
		"IDSYNC_HTTP_MAX_HEADER_BYTES":    "8KiB",
	})
	rows := slices.Concat(oktaEventRows(t), oktaVerificationRows(), oktaRegistrationRows(t), consoleRows(t), transportRows(), protocolRows())
	seen := map[string]bool{}
	fourxx := 0
	for i, row := range rows {
		if seen[row.name] {
			t.Fatalf("two rows are named %q", row.name)
		}
		seen[row.name] = true
		if row.status >= 400 && row.status < 500 {
			fourxx++
		}
		t.Run(row.name, func(t *testing.T) {
			s.t = t
			if row.setup != nil {
				row.setup(t, s)
			}
			before := s.lastSeq()
			r := s.send(t, row)
			checkHostileReply(t, row, r)
			if after := s.lastSeq(); after != before {
				t.Errorf("the stream grew from %d to %d: a hostile request was published", before, after)
			}
			s.deliverGood(t, i)
		})
	}
	if fourxx < 60 {
		t.Errorf("only %d rows expect a 4xx, want at least 60", fourxx)
	}
	t.Logf("%d rows, %d of them 4xx", len(rows), fourxx)
	for _, bad := range []string{`"level":"ERROR"`, "handler panic"} {
		if strings.Contains(s.logs.String(), bad) {
			t.Errorf("the gateway logged %s:\n%s", bad, grepLines(s.logs.String(), bad))
		}
	}
}

func checkHostileReply(t *testing.T, row hostile, r reply) {
	t.Helper()
	if r.status != row.status {
		t.Fatalf("status %d, want %d; body %.300q", r.status, row.status, r.body)
	}
	if row.contains != "" && !bytes.Contains(r.body, []byte(row.contains)) {
		t.Errorf("body %.300q does not contain %q", r.body, row.contains)
	}
	if row.status < 400 {
		return
	}
	if row.code == "" {
		// net/http's own refusal: a fixed plain-text line (or nothing), no
		// JSON code.
		if len(r.body) == 0 {
			return
		}
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") || json.Valid(r.body) {
			t.Errorf("net/http refusal with Content-Type %q: %.200q", ct, r.body)
		}
		return
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var body apierror.Body
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		t.Fatalf("error body %.300q: %v", r.body, err)
	}
	entry, ok := apierror.Lookup(body.Code)
	switch {
	case !ok:
		t.Errorf("code %q is not in the catalog", body.Code)
	case body.Code != row.code:
		t.Errorf("code %q, want %q (message %q)", body.Code, row.code, body.Message)
	case entry.Status != r.status || body.Status != r.status:
		t.Errorf("code %s: status %d in the body, %d on the wire, %d in the catalog", body.Code, body.Status, r.status, entry.Status)
	}
	if body.Message == "" {
		t.Error("error without a message")
	}
	if id := body.RequestID; id == "" || len(id) > 64 || id != r.header.Get("X-Request-Id") || strings.ContainsFunc(id, func(c rune) bool { return c < 0x21 || c > 0x7e }) {
		t.Errorf("request_id %.80q (header %.80q): want the X-Request-Id header, 1 to 64 printable characters", id, r.header.Get("X-Request-Id"))
	}
}

// deliverGood checks the gateway still takes a well-formed delivery.
func (s *served) deliverGood(t *testing.T, n int) {
	t.Helper()
	before := s.lastSeq()
	uuid := fmt.Sprintf("hostile-good-%03d", n)
	r := s.do("POST", "/okta/events", oktaAuth(oktaSecret), oktaBatch(logEvent(uuid, "user.lifecycle.create", "00ugood")))
	if r.status != http.StatusOK || !bytes.Contains(r.body, []byte(`"published":1`)) {
		t.Fatalf("a good delivery after the row: %d %s", r.status, r.body)
	}
	if after := s.lastSeq(); after != before+1 {
		t.Fatalf("a good delivery after the row moved the stream from %d to %d", before, after)
	}
}

// send writes the row on a new connection and reads one answer.
func (s *served) send(t *testing.T, row hostile) reply {
	t.Helper()
	if row.exchange != nil {
		return row.exchange(t, s)
	}
	raw := row.raw
	if raw == nil {
		raw = wire(row.method, row.path, row.header, row.body)
	}
	conn := s.dial(t)
	// The write may fail when the server refuses early and closes (431); the
	// answer is still there to read, so the error is not checked.
	go func() {
		_, _ = conn.Write(raw)
		if row.halfClose {
			_ = conn.(*net.TCPConn).CloseWrite()
		}
	}()
	return readReply(t, conn)
}

func (s *served) dial(t *testing.T) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	return conn
}

func readReply(t *testing.T, conn net.Conn) reply {
	t.Helper()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no HTTP answer: %v", err)
	}
	defer resp.Body.Close()
	// net/http's refusals end with a close that may come as a reset.
	b, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// wire frames a request as HTTP/1.1 with a Content-Length, headers in order
// of name and written as given: nothing is validated or escaped.
func wire(method, path string, header http.Header, body []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: gateway.test\r\nConnection: close\r\nContent-Length: %d\r\n", method, path, len(body))
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range header {
			if !yield(k) {
				return
			}
		}
	}) {
		for _, v := range header[k] {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

// with returns a copy of h with k set to the values vs (none: removed).
func with(h http.Header, k string, vs ...string) http.Header {
	out := h.Clone()
	if out == nil {
		out = http.Header{}
	}
	delete(out, k)
	out[k] = append(out[k], vs...)
	return out
}

func grepLines(s, sub string) string {
	var out []string
	for line := range strings.SplitSeq(s, "\n") {
		if strings.Contains(line, sub) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// handBatch is a one-event Okta delivery written by hand so that a row can
// put any JSON text in the uuid, published, target id and source members.
func handBatch(uuid, published, targetID, source string) []byte {
	return []byte(`{"eventType":"com.okta.event_hook","eventId":"hand-1","source":` + source +
		`,"data":{"events":[{"uuid":` + uuid + `,"published":` + published +
		`,"eventType":"user.lifecycle.create","target":[{"id":` + targetID + `,"type":"User","alternateId":"x@example.com"}]}]}}`)
}

const (
	okUUID   = `"hand-uuid-1"`
	okTime   = `"2026-11-20T10:00:00Z"`
	okTarget = `"00uhand"`
	okSource = `"https://example.okta.com/api/v1/eventHooks/who1"`
)

func nested(prefix string, depth int, suffix string) []byte {
	return []byte(prefix + strings.Repeat("[", depth) + strings.Repeat("]", depth) + suffix)
}

// gzipBomb is 16 MiB of zeros compressed to a few kilobytes.
func gzipBomb(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if _, err := zw.Write(make([]byte, 16<<20)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func oktaEventRows(t *testing.T) []hostile {
	auth := oktaAuth(oktaSecret)
	post := func(name string, body []byte, status int, code apierror.Code) hostile {
		return hostile{name: "okta events: " + name, method: "POST", path: "/okta/events", header: auth, body: body, status: status, code: code}
	}
	good := oktaBatch(logEvent("hostile-okta-1", "user.lifecycle.create", "00u1"))
	replayed := oktaBatch(logEvent("hostile-replayed-1", "user.lifecycle.create", "00ureplay"))
	evWith := func(f func(e map[string]any)) []byte {
		e := logEvent("hostile-okta-2", "user.lifecycle.create", "00u2")
		f(e)
		return oktaBatch(e)
	}
	longString := strings.Repeat("x", 60<<10)
	rows := []hostile{
		// Not one well-formed JSON object.
		post("truncated JSON", good[:len(good)/2], 400, apierror.InvalidJSON),
		post("empty body", nil, 400, apierror.InvalidJSON),
		post("blanks only", []byte(" \r\n\t "), 400, apierror.InvalidJSON),
		post("JSON null", []byte("null"), 400, apierror.InvalidJSON),
		post("top-level array", []byte(`[{"data":{"events":[]}}]`), 400, apierror.InvalidJSON),
		post("top-level string", []byte(`"data"`), 400, apierror.InvalidJSON),
		post("top-level number out of range", []byte(`1e999999`), 400, apierror.InvalidJSON),
		post("nesting deeper than 10000", nested(`{"data":{"events":`, 10001, `}}`), 400, apierror.InvalidJSON),
		post("invalid UTF-8 in a value", []byte("{\"data\":{\"events\":[]},\"x\":\"\xff\xfe\"}"), 400, apierror.InvalidJSON),
		post("invalid UTF-8 in a member name", []byte("{\"data\":{\"events\":[]},\"\xc3\x28\":1}"), 400, apierror.InvalidJSON),
		post("overlong UTF-8 encoding", []byte("{\"data\":{\"events\":[]},\"x\":\"\xc0\xaf\"}"), 400, apierror.InvalidJSON),
		post("lone surrogate escape", []byte(`{"data":{"events":[]},"x":"\ud800"}`), 400, apierror.InvalidJSON),
		post("duplicate member at the top", []byte(`{"data":{"events":[]},"data":{"events":[]}}`), 400, apierror.InvalidJSON),
		post("duplicate uuid inside an event", handBatch(`"a","uuid":"b"`, okTime, okTarget, okSource), 400, apierror.InvalidJSON),
		post("names equal but for case", handBatch(`"a","UUID":""`, okTime, okTarget, okSource), 400, apierror.InvalidJSON),
		post("names equal under Unicode case folding", handBatch(okUUID, `"2026-11-20T10:00:00Z","publiſhed":"1999-01-01T00:00:00Z"`, okTarget, okSource), 400, apierror.InvalidJSON),
		post("trailing data", append(slices.Clip(good), []byte(` {}`)...), 400, apierror.InvalidJSON),
		post("two objects back to back", append(slices.Clip(good), good...), 400, apierror.InvalidJSON),
		post("NUL byte between tokens", []byte("{\"data\":\x00{\"events\":[]}}"), 400, apierror.InvalidJSON),
		post("raw control character in a string", []byte("{\"data\":{\"events\":[]},\"x\":\"a\x01b\"}"), 400, apierror.InvalidJSON),
		post("byte order mark", append([]byte("\xef\xbb\xbf"), good...), 400, apierror.InvalidJSON),
		post("comment", []byte(`{"data":{"events":[]} /* hi */}`), 400, apierror.InvalidJSON),
		post("single quotes", []byte(`{'data':{'events':[]}}`), 400, apierror.InvalidJSON),
		post("NaN literal", []byte(`{"data":{"events":[]},"x":NaN}`), 400, apierror.InvalidJSON),

		// JSON, but not an event hook delivery.
		post("deep nesting where events should be", nested(`{"data":{"events":`, 5000, `}}`), 400, apierror.SchemaViolation),
		post("huge array of empty objects", []byte(`{"data":{"events":[`+strings.Repeat("{},", 20000)+`{}]}}`), 400, apierror.SchemaViolation),
		post("huge array of numbers", []byte(`{"data":{"events":[`+strings.Repeat("1,", 30000)+`1]}}`), 400, apierror.SchemaViolation),
		post("events is an object", []byte(`{"data":{"events":{"0":{}}}}`), 400, apierror.SchemaViolation),
		post("data is a string", []byte(`{"data":"events"}`), 400, apierror.SchemaViolation),
		post("uuid is a number", handBatch(`12345`, okTime, okTarget, okSource), 400, apierror.SchemaViolation),
		post("uuid is a number out of range", handBatch(`1e400`, okTime, okTarget, okSource), 400, apierror.SchemaViolation),
		post("uuid of 129 characters", handBatch(`"`+strings.Repeat("u", 129)+`"`, okTime, okTarget, okSource), 400, apierror.SchemaViolation),
		post("eventType of 60 KiB", evWith(func(e map[string]any) { e["eventType"] = longString }), 400, apierror.SchemaViolation),
		post("uuid with an escaped NUL", handBatch(`"hostile\u0000uuid"`, okTime, okTarget, okSource), 400, apierror.SchemaViolation),
		post("uuid of blanks", handBatch(`"   "`, okTime, okTarget, okSource), 400, apierror.SchemaViolation),
		post("uuid with a CRLF and a forged header", handBatch(`"hostile-crlf\r\nNats-Msg-Id: other"`, okTime, okTarget, okSource), 400, apierror.SchemaViolation),
		post("user id with a CRLF", handBatch(`"hostile-crlf-2"`, okTime, `"00u1\r\nce-type: okta.delete.user"`, okSource), 400, apierror.SchemaViolation),
		post("source with a CRLF", handBatch(`"hostile-crlf-3"`, okTime, okTarget, `"https://x.okta.com\r\nce-source: forged"`), 400, apierror.SchemaViolation),
		post("published in the year 0000", handBatch(`"hostile-t1"`, `"0000-01-01T00:00:00Z"`, okTarget, okSource), 400, apierror.SchemaViolation),
		post("published in the year 10000", handBatch(`"hostile-t2"`, `"10000-01-01T00:00:00Z"`, okTarget, okSource), 400, apierror.SchemaViolation),
		post("published in 0001 but the year 0000 in UTC", handBatch(`"hostile-t3"`, `"0001-01-01T00:00:00+01:00"`, okTarget, okSource), 400, apierror.SchemaViolation),
		post("published on a leap second", handBatch(`"hostile-t4"`, `"2016-12-31T23:59:60Z"`, okTarget, okSource), 400, apierror.SchemaViolation),
		post("published as Unix seconds", handBatch(`"hostile-t5"`, `1700000000`, okTarget, okSource), 400, apierror.SchemaViolation),
		{name: "okta events: one bad event rejects the whole batch", method: "POST", path: "/okta/events", header: auth,
			body:   oktaBatch(logEvent("hostile-batch-ok", "user.lifecycle.create", "00u3"), logEvent("hostile-batch-bad", "user.lifecycle.delete.initiated", "")),
			status: 400, code: apierror.SchemaViolation, contains: "/data/events/1"},
		post("registration hook body", testdata.Okta("registration-hook-ssr-request"), 400, apierror.SchemaViolation),
		{name: "okta create endpoint: truncated JSON", method: "POST", path: "/okta/create/user", header: auth, body: good[:len(good)-3], status: 400, code: apierror.InvalidJSON},
		{name: "okta delete endpoint: uuid with a CRLF", method: "POST", path: "/okta/delete/user", header: auth,
			body: bytes.Replace(handBatch(`"hostile-crlf-4\r\nx"`, okTime, okTarget, okSource), []byte("user.lifecycle.create"), []byte("user.lifecycle.delete.initiated"), 1), status: 400, code: apierror.SchemaViolation},
		post("Console body", testdata.Console("company_user_added"), 400, apierror.SchemaViolation),

		// Authentication.
		{name: "okta events: no Authorization", method: "POST", path: "/okta/events", header: http.Header{"Content-Type": {"application/json"}}, body: good, status: 401, code: apierror.AuthMissing},
		{name: "okta events: empty Authorization", method: "POST", path: "/okta/events", header: oktaAuth(""), body: good, status: 401, code: apierror.AuthMissing},
		{name: "okta events: wrong secret", method: "POST", path: "/okta/events", header: oktaAuth("wrong-secret-0123456789"), body: good, status: 401, code: apierror.AuthInvalid},
		{name: "okta events: Authorization twice", method: "POST", path: "/okta/events", header: with(auth, "Authorization", oktaSecret, oktaSecret), body: good, status: 401, code: apierror.AuthInvalid},
		{name: "okta events: Bearer scheme", method: "POST", path: "/okta/events", header: oktaAuth("Bearer " + oktaSecret), body: good, status: 401, code: apierror.AuthInvalid},
		{name: "okta events: secret prefix", method: "POST", path: "/okta/events", header: oktaAuth(oktaSecret[:12]), body: good, status: 401, code: apierror.AuthInvalid},
		{name: "okta events: both secrets in one header", method: "POST", path: "/okta/events", header: oktaAuth(oktaSecret + ", " + oktaNext), body: good, status: 401, code: apierror.AuthInvalid},
		{name: "okta events: swapped secret (the Console's)", method: "POST", path: "/okta/events", header: oktaAuth(consoleSecret), body: good, status: 401, code: apierror.AuthInvalid},
		{name: "okta events: Console signature instead", method: "POST", path: "/okta/events", header: consoleSigned(good, consoleSecret), body: good, status: 401, code: apierror.AuthMissing},
		{name: "okta events: non-ASCII bytes in Authorization", method: "POST", path: "/okta/events", header: oktaAuth(oktaSecret + "\xff"), body: good, status: 401, code: apierror.AuthInvalid},

		// Media type and coding.
		{name: "okta events: text/plain", method: "POST", path: "/okta/events", header: with(auth, "Content-Type", "text/plain"), body: good, status: 415, code: apierror.UnsupportedMediaType},
		{name: "okta events: multipart", method: "POST", path: "/okta/events", header: with(auth, "Content-Type", "multipart/form-data; boundary=x"), body: good, status: 415, code: apierror.UnsupportedMediaType},
		{name: "okta events: unparsable Content-Type", method: "POST", path: "/okta/events", header: with(auth, "Content-Type", "application/json; ="), body: good, status: 415, code: apierror.UnsupportedMediaType},
		{name: "okta events: jsonp lookalike", method: "POST", path: "/okta/events", header: with(auth, "Content-Type", "application/jsonp"), body: good, status: 415, code: apierror.UnsupportedMediaType},
		{name: "okta events: gzip bomb", method: "POST", path: "/okta/events", header: with(auth, "Content-Encoding", "gzip"), body: gzipBomb(t), status: 415, code: apierror.UnsupportedMediaType},
		{name: "okta events: brotli", method: "POST", path: "/okta/events", header: with(auth, "Content-Encoding", "br"), body: good, status: 415, code: apierror.UnsupportedMediaType},

		// Size.
		post("body over the limit", append(slices.Clip(good[:len(good)-1]), []byte(`,"pad":"`+strings.Repeat("p", 70<<10)+`"}`)...), 413, apierror.BodyTooLarge),

		// The deliberate 2xx: Okta retries a delivery it got no answer to.
		{name: "okta events: exact replay of a batch is stored once", method: "POST", path: "/okta/events", header: auth, body: replayed,
			setup: func(t *testing.T, s *served) {
				if r := s.do("POST", "/okta/events", auth, replayed); r.status != 200 || !bytes.Contains(r.body, []byte(`"published":1`)) {
					t.Fatalf("original delivery: %d %s", r.status, r.body)
				}
			},
			status: 200, contains: `"duplicates":1`},
	}
	return rows
}

func oktaVerificationRows() []hostile {
	get := func(name, path string, header http.Header, status int, code apierror.Code) hostile {
		return hostile{name: "okta verification: " + name, method: "GET", path: path, header: header, status: status, code: code}
	}
	auth := http.Header{"Authorization": {oktaSecret}}
	return []hostile{
		get("no challenge", "/okta/events", auth, 400, apierror.SchemaViolation),
		get("challenge of 1025 characters", "/okta/events", with(auth, "X-Okta-Verification-Challenge", strings.Repeat("c", 1025)), 400, apierror.SchemaViolation),
		get("no Authorization", "/okta/create/user", http.Header{"X-Okta-Verification-Challenge": {"c"}}, 401, apierror.AuthMissing),
		get("wrong secret", "/okta/delete/user", http.Header{"Authorization": {"nope-nope-nope-nope"}, "X-Okta-Verification-Challenge": {"c"}}, 401, apierror.AuthInvalid),
		get("Authorization twice", "/okta/events", http.Header{"Authorization": {oktaSecret, "other"}, "X-Okta-Verification-Challenge": {"c"}}, 401, apierror.AuthInvalid),
		get("on the inline hook", "/okta/verify/email", with(auth, "X-Okta-Verification-Challenge", "c"), 405, apierror.MethodNotAllowed),
	}
}

func oktaRegistrationRows(t *testing.T) []hostile {
	auth := oktaAuth(oktaSecret)
	post := func(name string, header http.Header, body []byte, status int, code apierror.Code) hostile {
		return hostile{name: "okta inline hook: " + name, method: "POST", path: "/okta/verify/email", header: header, body: body, status: status, code: code}
	}
	reg := testdata.Okta("registration-hook-ssr-request")
	return []hostile{
		post("truncated JSON", auth, reg[:len(reg)/3], 400, apierror.InvalidJSON),
		post("empty body", auth, nil, 400, apierror.InvalidJSON),
		post("JSON null", auth, []byte("null"), 400, apierror.InvalidJSON),
		post("duplicate eventId", auth, []byte(`{"eventId":"a","eventId":"b","data":{"userProfile":{"email":"a@example.com"}}}`), 400, apierror.InvalidJSON),
		post("invalid UTF-8 in the email", auth, []byte("{\"eventId\":\"a\",\"data\":{\"userProfile\":{\"email\":\"a\xff@example.com\"}}}"), 400, apierror.InvalidJSON),
		post("data is an array", auth, []byte(`{"eventId":"a","data":[]}`), 400, apierror.SchemaViolation),
		post("event hook body", auth, oktaBatch(logEvent("u", "user.lifecycle.create", "00u1")), 400, apierror.SchemaViolation),
		post("eventId with a CRLF", auth, mutate(t, reg, func(m map[string]any) { m["eventId"] = "reg\r\nNats-Msg-Id: x" }), 400, apierror.SchemaViolation),
		post("no Authorization", http.Header{"Content-Type": {"application/json"}}, reg, 401, apierror.AuthMissing),
		post("swapped secret (the Console's)", oktaAuth(consoleSecret), reg, 401, apierror.AuthInvalid),
		post("text/plain", with(auth, "Content-Type", "text/plain"), reg, 415, apierror.UnsupportedMediaType),
		post("body over the limit", auth, append(slices.Clip(reg[:bytes.LastIndexByte(reg, '}')]), []byte(`,"pad":"`+strings.Repeat("p", 70<<10)+`"}`)...), 413, apierror.BodyTooLarge),
	}
}

func consoleRows(t *testing.T) []hostile {
	body := mutate(t, testdata.Console("tag_created"), func(m map[string]any) { m["eventTimestamp"] = 1718611299999 })
	post := func(name, path string, header http.Header, b []byte, status int, code apierror.Code) hostile {
		return hostile{name: "console: " + name, method: "POST", path: path, header: header, body: b, status: status, code: code}
	}
	signed := func(name string, b []byte, status int, code apierror.Code) hostile {
		return post(name, "/console/events", consoleSigned(b, consoleSecret), b, status, code)
	}
	sig := func(v ...string) http.Header {
		return http.Header{consolehook.HeaderSignature: v, "Content-Type": {"application/json"}}
	}
	mac := hmac.New(sha256.New, []byte(consoleSecret))
	mac.Write(body)
	hmacSig := hex.EncodeToString(mac.Sum(nil))
	digest := sha256.Sum256(append(slices.Clip(body), consoleSecret...))
	prepend := sha256.Sum256(append([]byte(consoleSecret), body...))
	user := testdata.Console("company_user_added")
	userWith := func(f func(p map[string]any)) []byte {
		return mutate(t, user, func(m map[string]any) { f(field(m, "payload")) })
	}
	bomb := gzipBomb(t)
	return []hostile{
		post("no signature", "/console/events", http.Header{"Content-Type": {"application/json"}}, body, 401, apierror.AuthMissing),
		post("HMAC instead of the Console scheme", "/console/events", sig(hmacSig), body, 401, apierror.AuthInvalid),
		post("swapped secret (Okta's)", "/console/events", consoleSigned(body, oktaSecret), body, 401, apierror.AuthInvalid),
		post("secret prepended", "/console/events", sig(hex.EncodeToString(prepend[:])), body, 401, apierror.AuthInvalid),
		post("signature of another body", "/console/events", consoleSigned(testdata.Console("tag_created"), consoleSecret), body, 401, apierror.AuthInvalid),
		post("signature twice", "/console/events", sig(consolehook.Sign(body, consoleSecret), consolehook.Sign(body, consoleSecret)), body, 401, apierror.AuthInvalid),
		post("signature of 63 hex digits", "/console/events", sig(consolehook.Sign(body, consoleSecret)[:63]), body, 401, apierror.AuthInvalid),
		post("signature in base64", "/console/events", sig(base64.StdEncoding.EncodeToString(digest[:])), body, 401, apierror.AuthInvalid),
		post("sha1= prefix", "/console/events", sig("sha1="+consolehook.Sign(body, consoleSecret)), body, 401, apierror.AuthInvalid),
		post("sha256= and nothing else", "/console/events", sig("sha256="), body, 401, apierror.AuthInvalid),
		post("Okta's Authorization instead", "/console/events", oktaAuth(oktaSecret), body, 401, apierror.AuthMissing),
		signed("truncated JSON", body[:len(body)/2], 400, apierror.InvalidJSON),
		signed("JSON null", []byte("null"), 400, apierror.InvalidJSON),
		signed("duplicate eventName", []byte(`{"eventName":"tag_created","eventName":"project_created","eventTimestamp":1,"payload":{}}`), 400, apierror.InvalidJSON),
		signed("invalid UTF-8", []byte("{\"eventName\":\"tag_created\",\"eventTimestamp\":1,\"payload\":{\"tagName\":\"\xff\"}}"), 400, apierror.InvalidJSON),
		signed("unknown eventName", []byte(`{"eventName":"project_deleted","eventTimestamp":1,"payload":{}}`), 422, apierror.UnknownEvent),
		signed("eventName of 50 KiB", []byte(`{"eventName":"`+strings.Repeat("e", 50<<10)+`","eventTimestamp":1,"payload":{}}`), 422, apierror.UnknownEvent),
		signed("eventName missing", []byte(`{"eventTimestamp":1,"payload":{}}`), 400, apierror.SchemaViolation),
		signed("eventTimestamp out of float range", []byte(`{"eventName":"tag_created","eventTimestamp":1e400,"payload":{}}`), 400, apierror.SchemaViolation),
		signed("eventTimestamp as a string", []byte(`{"eventName":"tag_created","eventTimestamp":"1718611200000","payload":{}}`), 400, apierror.SchemaViolation),
		signed("eventTimestamp in microseconds (year > 9999)", []byte(`{"eventName":"tag_created","eventTimestamp":1718611200000000,"payload":{}}`), 400, apierror.SchemaViolation),
		signed("eventTimestamp before the year 0000", []byte(`{"eventName":"tag_created","eventTimestamp":-62167219200001,"payload":{}}`), 400, apierror.SchemaViolation),
		signed("payload null", []byte(`{"eventName":"tag_created","eventTimestamp":1,"payload":null}`), 400, apierror.SchemaViolation),
		signed("unexpected top-level member", mutate(t, body, func(m map[string]any) { m["admin"] = true }), 400, apierror.SchemaViolation),
		signed("userId with a CRLF", userWith(func(p map[string]any) { p["userId"] = "u1\r\nce-type: console.create.project" }), 400, apierror.SchemaViolation),
		signed("userId of blanks", userWith(func(p map[string]any) { p["userId"] = "  " }), 400, apierror.SchemaViolation),
		signed("Okta batch", oktaBatch(logEvent("c1", "user.lifecycle.create", "00u1")), 400, apierror.SchemaViolation),
		post("userId with a CRLF on the user endpoint", "/console/update/user/permissions", consoleSigned(userWith(func(p map[string]any) { p["userId"] = "u2\r\nx" }), consoleSecret),
			userWith(func(p map[string]any) { p["userId"] = "u2\r\nx" }), 400, apierror.SchemaViolation),
		post("project event on the user endpoint", "/console/update/user/permissions", consoleSigned(testdata.Console("project_created"), consoleSecret), testdata.Console("project_created"), 422, apierror.EventNotAccepted),
		post("text/plain", "/console/events", with(consoleSigned(body, consoleSecret), "Content-Type", "text/plain"), body, 415, apierror.UnsupportedMediaType),
		post("gzip bomb, signed", "/console/events", with(consoleSigned(bomb, consoleSecret), "Content-Encoding", "gzip"), bomb, 415, apierror.UnsupportedMediaType),
		signed("body over the limit", mutate(t, body, func(m map[string]any) { field(m, "payload")["message"] = strings.Repeat("m", 70<<10) }), 413, apierror.BodyTooLarge),
	}
}

// transportRows reach the gateway's handlers through unusual framing,
// methods, paths and slow senders.
func transportRows() []hostile {
	auth := oktaAuth(oktaSecret)
	good := oktaBatch(logEvent("hostile-transport-1", "user.lifecycle.create", "00u1"))
	head := func(method, path, extra string) string {
		return method + " " + path + " HTTP/1.1\r\nHost: gateway.test\r\nConnection: close\r\nAuthorization: " + oktaSecret + "\r\nContent-Type: application/json\r\n" + extra
	}
	method := func(m, path string, status int, code apierror.Code) hostile {
		return hostile{name: "method " + m + " " + path, method: m, path: path, header: auth, body: good, status: status, code: code}
	}
	path := func(p string) hostile {
		return hostile{name: "path " + p, method: "POST", path: p, header: auth, body: good, status: 404, code: apierror.NotFound}
	}
	return []hostile{
		method("PUT", "/okta/events", 405, apierror.MethodNotAllowed),
		method("DELETE", "/okta/delete/user", 405, apierror.MethodNotAllowed),
		method("PATCH", "/console/events", 405, apierror.MethodNotAllowed),
		method("OPTIONS", "/okta/events", 405, apierror.MethodNotAllowed),
		method("TRACE", "/okta/events", 405, apierror.MethodNotAllowed),
		method("post", "/okta/events", 405, apierror.MethodNotAllowed),
		method("BREW", "/console/update/user/permissions", 405, apierror.MethodNotAllowed),
		method("GET", "/console/update/user/permissions", 405, apierror.MethodNotAllowed),
		path("/okta/unknown"),
		path("/okta/../console/events"),
		path("/okta%2Fevents"),
		path("/okta/events/"),
		path("//okta/events"),
		path("/OKTA/EVENTS"),
		{name: "hostile X-Request-Id on a 404 is not echoed", method: "POST", path: "/nowhere", header: with(auth, "X-Request-Id", strings.Repeat("r", 4000)), body: good, status: 404, code: apierror.NotFound},
		{name: "hostile X-Request-Id on a 405 is not echoed", method: "PUT", path: "/okta/events", header: with(auth, "X-Request-Id", "<script>\xff"), body: good, status: 405, code: apierror.MethodNotAllowed},
		{name: "hostile X-Request-Id on a 401 is not echoed", method: "POST", path: "/okta/events", header: with(oktaAuth("nope-nope-nope-nope"), "X-Request-Id", "a b"), body: good, status: 401, code: apierror.AuthInvalid},
		{name: "body shorter than its Content-Length", raw: []byte(head("POST", "/okta/events", "Content-Length: 5000\r\n\r\n") + string(good)), halfClose: true, status: 400, code: apierror.InvalidJSON},
		{name: "Content-Length over the limit, body never sent", raw: []byte(head("POST", "/okta/events", "Content-Length: 104857600\r\nExpect: 100-continue\r\n\r\n")), status: 413, code: apierror.BodyTooLarge},
		{name: "chunked body over the limit", raw: chunked(head("POST", "/okta/events", "Transfer-Encoding: chunked\r\n\r\n"), 80<<10), status: 413, code: apierror.BodyTooLarge},
		{name: "malformed chunk size", raw: []byte(head("POST", "/okta/events", "Transfer-Encoding: chunked\r\n\r\n") + "zz\r\n{}\r\n0\r\n\r\n"), status: 400, code: apierror.InvalidJSON},
		{name: "Content-Length and Transfer-Encoding both (smuggling)", raw: []byte(head("POST", "/okta/events", "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n") + "0\r\n\r\nGET /okta/events HTTP/1.1\r\nHost: x\r\n\r\n"), status: 400, code: apierror.InvalidJSON},
		{name: "slow body (R.U.D.Y.)", exchange: slowBody, status: 408, code: apierror.RequestTimeout},
		{name: "slowloris: headers dribbled", exchange: slowloris, status: 408},
	}
}

// protocolRows are requests net/http refuses before any idsync code runs:
// the answer is its fixed plain-text line with no JSON code, and nothing
// reaches the handlers or the metrics. Two are 5xx because the HTTP RFCs say
// so: an unknown transfer coding is 501 (RFC 9112 §6.1) and an HTTP major
// version other than 1 is 505 (RFC 9110 §15.6.6).
func protocolRows() []hostile {
	line := "POST /okta/events HTTP/1.1\r\nHost: gateway.test\r\nConnection: close\r\n"
	raw := func(name, req string, status int) hostile {
		return hostile{name: "protocol: " + name, raw: []byte(req), status: status}
	}
	return []hostile{
		raw("header block over the limit", line+"X-Big: "+strings.Repeat("b", 2*hostileHeaderBytes)+"\r\n\r\n", 431),
		raw("too many headers", line+strings.Repeat("X-Many: m\r\n", hostileHeaderBytes/4)+"\r\n", 431),
		raw("URI over the header limit", "GET /okta/events?"+strings.Repeat("q", 2*hostileHeaderBytes)+" HTTP/1.1\r\nHost: gateway.test\r\n\r\n", 431),
		raw("CR inside a header value", line+"X-Inject: a\rSet-Cookie: b\r\nContent-Length: 0\r\n\r\n", 400),
		raw("NUL inside a header value", line+"Authorization: "+oktaSecret+"\x00\r\nContent-Length: 0\r\n\r\n", 400),
		raw("space in a header name", line+"Bad Header: x\r\nContent-Length: 0\r\n\r\n", 400),
		raw("header line without a colon", line+"NoColonHere\r\nContent-Length: 0\r\n\r\n", 400),
		// net/http unfolds the line into the value: no longer the secret.
		{name: "protocol: obsolete line folding", raw: []byte(line + "Content-Type: application/json\r\nAuthorization: " + oktaSecret + "\r\n folded\r\nContent-Length: 0\r\n\r\n"), status: 401, code: apierror.AuthInvalid},
		raw("Content-Length not a number", line+"Content-Length: ten\r\n\r\n", 400),
		raw("Content-Length negative", line+"Content-Length: -1\r\n\r\n", 400),
		raw("two different Content-Lengths", line+"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}", 400),
		raw("no Host", "POST /okta/events HTTP/1.1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", 400),
		raw("two Hosts", line+"Host: other.test\r\nContent-Length: 0\r\n\r\n", 400),
		raw("TLS ClientHello on the plain port", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"+strings.Repeat("\x00", 32)+"\r\n\r\n", 400),
		raw("unknown Expect", line+"Expect: 200-ok\r\nContent-Length: 0\r\n\r\n", 417),
		raw("unknown transfer coding (501 by RFC 9112)", line+"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501),
		raw("HTTP/2.0 request line (505 by RFC 9110)", "POST /okta/events HTTP/2.0\r\nHost: gateway.test\r\nContent-Length: 0\r\n\r\n", 505),
	}
}

// chunked frames n bytes of body in 4 KiB chunks after head.
func chunked(head string, n int) []byte {
	var b bytes.Buffer
	b.WriteString(head)
	chunk := strings.Repeat("c", 4<<10)
	for sent := 0; sent < n; sent += len(chunk) {
		fmt.Fprintf(&b, "%x\r\n%s\r\n", len(chunk), chunk)
	}
	b.WriteString("0\r\n\r\n")
	return b.Bytes()
}

// slowBody sends complete headers and part of the body, then nothing: the
// read timeout must end the request with 408 request_timeout.
func slowBody(t *testing.T, s *served) reply {
	conn := s.dial(t)
	body := oktaBatch(logEvent("hostile-slow-body", "user.lifecycle.create", "00u1"))
	req := wire("POST", "/okta/events", oktaAuth(oktaSecret), body)
	if _, err := conn.Write(req[:len(req)-len(body)/2]); err != nil {
		t.Fatal(err)
	}
	return readReply(t, conn)
}

// slowloris dribbles header lines, never ending the header block. The server
// must close the connection (net/http does so without an answer) or answer
// 408 once IDSYNC_HTTP_READ_HEADER_TIMEOUT has passed, while the dribbling
// still goes on. A close counts as the 408 this row expects.
func slowloris(t *testing.T, s *served) reply {
	conn := s.dial(t)
	var completed atomic.Bool
	stop := make(chan struct{})
	defer close(stop)
	// Far longer than the header timeout: if the loop ends, the server kept
	// a never-ending header block open.
	const lines = 400
	go func() {
		if _, err := io.WriteString(conn, "POST /okta/events HTTP/1.1\r\nHost: gateway.test\r\n"); err != nil {
			return
		}
		tick := time.NewTicker(hostileHeaderTimeout / 20)
		defer tick.Stop()
		for i := range lines {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if _, err := fmt.Fprintf(conn, "X-Drip-%d: d\r\n", i); err != nil {
				return
			}
		}
		completed.Store(true)
	}()
	buf := make([]byte, 512)
	n, err := conn.Read(buf)
	if completed.Load() {
		t.Fatalf("the connection outlived %d dribbled header lines", lines)
	}
	switch {
	case n > 0:
		resp, rerr := http.ReadResponse(bufio.NewReader(bytes.NewReader(buf[:n])), nil)
		if rerr != nil {
			t.Fatalf("answer to a dribbled header: %q", buf[:n])
		}
		return reply{status: resp.StatusCode, header: resp.Header, body: []byte(strconv.Itoa(resp.StatusCode))}
	case errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isReset(err):
		return reply{status: 408, header: http.Header{"Content-Type": {"text/plain"}}, body: []byte("408 (connection closed)")}
	default:
		t.Fatalf("reading while dribbling: %v", err)
		return reply{}
	}
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && strings.Contains(op.Err.Error(), "reset")
}

// TestSlowlorisDoesNotStarveTheGateway holds many connections open with
// never-ending header blocks: a well-formed delivery still succeeds while they
// are open, and the server closes every one of them (the header timeout)
// before their dribbling ends.
func TestSlowlorisDoesNotStarveTheGateway(t *testing.T) {
	s := serveGateway(t, map[string]string{"IDSYNC_HTTP_READ_HEADER_TIMEOUT": hostileHeaderTimeout.String()})
	const conns, lines = 50, 400
	var started, closed, outlived atomic.Int32
	stop := make(chan struct{})
	defer close(stop)
	for range conns {
		conn, err := net.Dial("tcp", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		go func() {
			defer conn.Close()
			if _, err := io.WriteString(conn, "POST /okta/events HTTP/1.1\r\nHost: gateway.test\r\n"); err != nil {
				return
			}
			started.Add(1)
			// The server closing is seen by a read; the writes go on meanwhile.
			gone := make(chan struct{})
			go func() {
				_, _ = conn.Read(make([]byte, 1))
				closed.Add(1)
				close(gone)
			}()
			tick := time.NewTicker(hostileHeaderTimeout / 20)
			defer tick.Stop()
			for i := range lines {
				select {
				case <-stop:
					return
				case <-gone:
					return
				case <-tick.C:
				}
				if _, err := fmt.Fprintf(conn, "X-Drip-%d: d\r\n", i); err != nil {
					<-gone
					return
				}
			}
			outlived.Add(1)
		}()
	}
	waitFor(t, "every slow connection sending", func() bool { return started.Load() == conns })
	s.t = t
	s.deliverGood(t, 0)
	waitFor(t, "the server closing every slow connection", func() bool { return closed.Load()+outlived.Load() == conns })
	if n := outlived.Load(); n > 0 {
		t.Fatalf("%d connections outlived %d dribbled header lines", n, lines)
	}
}
