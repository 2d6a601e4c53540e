// Package apierror is the one catalog of errors idsync returns over HTTP and
// the one JSON shape they take:
//
//	{"status": 400, "code": "invalid_json", "message": "…", "request_id": "…"}
//
// Codes are stable identifiers that senders and operators can match on; the
// message is for humans and may change. The README's error table lists every
// code here (a test keeps them in step).
package apierror

import "net/http"

// Code is a stable error identifier.
type Code string

// The catalog. Add new codes at the end of a group; never change or reuse one.
const (
	// Authentication.
	AuthMissing Code = "auth_missing"
	AuthInvalid Code = "auth_invalid"

	// Request shape.
	NotFound             Code = "not_found"
	MethodNotAllowed     Code = "method_not_allowed"
	UnsupportedMediaType Code = "unsupported_media_type"
	BodyTooLarge         Code = "body_too_large"
	RequestTimeout       Code = "request_timeout"
	InvalidJSON          Code = "invalid_json"
	SchemaViolation      Code = "schema_violation"
	UnknownEvent         Code = "unknown_event"
	EventNotAccepted     Code = "event_not_accepted"

	// The bus could not take the event: retry later.
	BusUnavailable Code = "bus_unavailable"
	BusTimeout     Code = "bus_timeout"
	BusFull        Code = "bus_full"

	// A bug or an unexpected failure.
	Internal Code = "internal"

	// Reconciliation requests (NATS request-reply on <ns>.reconcile.<provider>).
	InvalidRequest Code = "invalid_request"
	ReconcileBusy  Code = "reconcile_busy"
)

// Entry documents one code.
type Entry struct {
	Code   Code
	Status int
	// Retry tells the sender whether sending the same request again can succeed.
	Retry bool
	// Meaning is the README's description of the code.
	Meaning string
}

// Catalog lists every code in the order of the README table.
var Catalog = []Entry{
	{AuthMissing, http.StatusUnauthorized, false, "The request carries no credentials: the Okta hook's authorization header or the Console's X-Mia-Signature is absent."},
	{AuthInvalid, http.StatusUnauthorized, false, "The credentials do not match any configured secret (the Okta header value, or the Console signature over the body)."},
	{NotFound, http.StatusNotFound, false, "No such endpoint."},
	{MethodNotAllowed, http.StatusMethodNotAllowed, false, "The endpoint exists but not for this method; the Allow header lists the methods it takes."},
	{UnsupportedMediaType, http.StatusUnsupportedMediaType, false, "The body is declared as something other than JSON, or as compressed (a Content-Encoding other than identity)."},
	{BodyTooLarge, http.StatusRequestEntityTooLarge, false, "The body is larger than IDSYNC_MAX_BODY_BYTES."},
	{RequestTimeout, http.StatusRequestTimeout, true, "The body did not arrive within IDSYNC_HTTP_READ_TIMEOUT."},
	{InvalidJSON, http.StatusBadRequest, false, "The body is not a single well-formed JSON object (also: a body shorter than its Content-Length or with malformed chunked framing)."},
	{SchemaViolation, http.StatusBadRequest, false, "The body is JSON but violates the event's schema; the message names the first offending location. Also: an event id, subject or source the bus's headers cannot carry."},
	{UnknownEvent, http.StatusUnprocessableEntity, false, "The Console eventName is not one idsync knows."},
	{EventNotAccepted, http.StatusUnprocessableEntity, false, "The event is valid but this endpoint does not take it (e.g. project_created sent to /console/update/user/permissions); send it to /console/events."},
	{BusUnavailable, http.StatusServiceUnavailable, true, "NATS JetStream is unreachable or the stream has no leader; nothing was stored. Retry after the Retry-After delay."},
	{BusTimeout, http.StatusServiceUnavailable, true, "JetStream did not acknowledge within IDSYNC_PUBLISH_TIMEOUT; the event may or may not be stored, and a retry is deduplicated."},
	{BusFull, http.StatusServiceUnavailable, true, "The stream reached its size limit (IDSYNC_STREAM_MAX_BYTES) and refuses new events until old events age out (IDSYNC_STREAM_MAX_AGE) or the limit is raised: the stream keeps events by age and size, not until they are consumed, so consumers catching up frees nothing."},
	{Internal, http.StatusInternalServerError, true, "An unexpected failure inside idsync; it is logged with the request id."},
	{InvalidRequest, http.StatusBadRequest, false, "A reconciliation request is JSON but not {\"apply\": bool, \"removeUnmanaged\": bool}: an unknown member, or a value that is not a boolean. Nothing was run."},
	{ReconcileBusy, http.StatusConflict, true, "A reconciliation of this provider is already running (on this replica or another); the message says since when. Ask again when it has finished."},
}

var byCode = func() map[Code]Entry {
	m := make(map[Code]Entry, len(Catalog))
	for _, e := range Catalog {
		m[e.Code] = e
	}
	return m
}()

// Lookup returns the catalog entry for code.
func Lookup(code Code) (Entry, bool) {
	e, ok := byCode[code]
	return e, ok
}

// Status returns the HTTP status of code, or 500 for a code not in the catalog.
func (c Code) Status() int {
	if e, ok := byCode[c]; ok {
		return e.Status
	}
	return http.StatusInternalServerError
}
