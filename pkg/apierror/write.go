package apierror

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// Body is the JSON shape of every error idsync returns.
type Body struct {
	Status    int    `json:"status"`
	Code      Code   `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id,omitempty"`
}

// Error is an error that knows its catalog code; handlers return it and the
// transport writes it.
type Error struct {
	Code    Code
	Message string
	// RetryAfter, when positive, is sent as the Retry-After header.
	RetryAfter time.Duration
	// Err is the internal cause; it is logged, never sent.
	Err error
}

// New returns an error with the given code and human message.
func New(code Code, message string) *Error { return &Error{Code: code, Message: message} }

// Wrap returns an error with the given code and message whose cause is err.
func Wrap(code Code, message string, err error) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

func (e *Error) Error() string {
	if e.Err != nil {
		return string(e.Code) + ": " + e.Message + ": " + e.Err.Error()
	}
	return string(e.Code) + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Write sends e as the JSON error body with its status. Requests that may be
// retried carry Retry-After (seconds, rounded up, at least 1).
func Write(w http.ResponseWriter, e *Error, requestID string) {
	status := e.Code.Status()
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if e.RetryAfter > 0 {
		secs := int64((e.RetryAfter + time.Second - 1) / time.Second)
		h.Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(Body{Status: status, Code: e.Code, Message: e.Message, RequestID: requestID})
}
