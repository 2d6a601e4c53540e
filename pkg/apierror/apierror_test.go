package apierror_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/apierror"
)

// The catalog is a public contract: senders match on codes, so a duplicate or
// a code with the wrong status class would silently change what they do.
func TestCatalogIsWellFormed(t *testing.T) {
	t.Parallel()
	seen := map[apierror.Code]bool{}
	for _, e := range apierror.Catalog {
		if e.Code == "" {
			t.Errorf("entry %+v has no code", e)
		}
		if seen[e.Code] {
			t.Errorf("code %q is listed twice", e.Code)
		}
		seen[e.Code] = true
		if e.Status < 400 || e.Status > 599 {
			t.Errorf("%s: status %d is not 4xx or 5xx", e.Code, e.Status)
		}
		if e.Meaning == "" {
			t.Errorf("%s: empty Meaning (the README table is generated from it)", e.Code)
		}
		got, ok := apierror.Lookup(e.Code)
		if !ok || got.Code != e.Code {
			t.Errorf("Lookup(%q) = %+v, %v", e.Code, got, ok)
		}
		if e.Code.Status() != e.Status {
			t.Errorf("%s.Status() = %d, want %d", e.Code, e.Code.Status(), e.Status)
		}
	}
	if _, ok := apierror.Lookup("no_such_code"); ok {
		t.Error("Lookup found a code that is not in the catalog")
	}
	// An unknown code must not turn into a 2xx: it is a bug, so a 500.
	if got := apierror.Code("no_such_code").Status(); got != http.StatusInternalServerError {
		t.Errorf("unknown code status = %d, want 500", got)
	}
}

func TestWrite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		err            *apierror.Error
		requestID      string
		wantStatus     int
		wantRetryAfter string // "" means the header must be absent
	}{
		{"client error, no retry", apierror.New(apierror.InvalidJSON, "bad"), "req-1", http.StatusBadRequest, ""},
		{"negative delay is ignored", &apierror.Error{Code: apierror.BusUnavailable, Message: "m", RetryAfter: -time.Second}, "", http.StatusServiceUnavailable, ""},
		{"zero delay is ignored", &apierror.Error{Code: apierror.BusUnavailable, Message: "m"}, "", http.StatusServiceUnavailable, ""},
		{"sub-second rounds up to 1", &apierror.Error{Code: apierror.BusTimeout, Message: "m", RetryAfter: time.Millisecond}, "r", http.StatusServiceUnavailable, "1"},
		{"one nanosecond rounds up to 1", &apierror.Error{Code: apierror.BusTimeout, Message: "m", RetryAfter: 1}, "r", http.StatusServiceUnavailable, "1"},
		{"whole seconds stay", &apierror.Error{Code: apierror.BusFull, Message: "m", RetryAfter: 2 * time.Second}, "r", http.StatusServiceUnavailable, "2"},
		{"fractions round up", &apierror.Error{Code: apierror.BusFull, Message: "m", RetryAfter: 2*time.Second + time.Nanosecond}, "r", http.StatusServiceUnavailable, "3"},
		{"unknown code is a 500", apierror.New("no_such_code", "m"), "r", http.StatusInternalServerError, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			apierror.Write(rec, tt.err, tt.requestID)
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			got, present := rec.Header()["Retry-After"]
			switch {
			case tt.wantRetryAfter == "" && present:
				t.Errorf("Retry-After = %q, want none", got)
			case tt.wantRetryAfter != "" && rec.Header().Get("Retry-After") != tt.wantRetryAfter:
				t.Errorf("Retry-After = %q, want %q", rec.Header().Get("Retry-After"), tt.wantRetryAfter)
			}
			var body apierror.Body
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", rec.Body, err)
			}
			want := apierror.Body{Status: tt.wantStatus, Code: tt.err.Code, Message: tt.err.Message, RequestID: tt.requestID}
			if body != want {
				t.Errorf("body = %+v, want %+v", body, want)
			}
		})
	}
}

// The internal cause is logged, never sent: it may name hosts or hold input.
func TestWriteDoesNotSendTheCause(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	apierror.Write(rec, apierror.Wrap(apierror.Internal, "failed", errSecret{}), "")
	if got := rec.Body.String(); strings.Contains(got, "s3cr3t") {
		t.Errorf("body leaks the cause: %s", got)
	}
}

type errSecret struct{}

func (errSecret) Error() string { return "s3cr3t" }
