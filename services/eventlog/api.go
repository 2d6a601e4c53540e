package eventlog

import (
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/httpserver"
	"github.com/idsync/idsync/pkg/logging"
	"github.com/idsync/idsync/services/eventlog/store"
)

// The events API's error codes: the seed's (4002–4004) and idsync's for the
// filters the seed lacks.
const (
	ErrAuth    = 4001
	ErrLimit   = 4002
	ErrOffset  = 4003
	ErrActor   = 4004
	ErrType    = 4005
	ErrTime    = 4006
	ErrOutcome = 4007
	ErrCursor  = 4008
	ErrStore   = 5001
)

// Messages of the error codes; 4002–4004 are the seed's own words.
var errorMessages = map[int]string{
	ErrAuth:    "Authentication required",
	ErrLimit:   "Invalid limit (must be a number between 1 and 1000)",
	ErrOffset:  "Invalid offset (must be at least 0)",
	ErrActor:   "Both user ID and actor ID are missing",
	ErrType:    "Invalid type (must be an event type listed by /api/event-types)",
	ErrTime:    "Invalid time (from and to must be RFC 3339 times or Unix milliseconds)",
	ErrOutcome: "Invalid outcome (must be one of " + strings.Join(Outcomes(), ", ") + ")",
	ErrCursor:  "Invalid cursor (pass back the nextCursor of a previous answer)",
	ErrStore:   "The event log is unavailable; retry later",
}

// outcomes are the values the outcome filter accepts.
var outcomes = func() map[string]bool {
	m := map[string]bool{}
	for _, o := range Outcomes() {
		m[o] = true
	}
	return m
}()

// API serves /api/events and the event-type catalog.
type API struct {
	store store.Store
	auth  *basicAuth
	cat   *events.Catalog
	log   *slog.Logger
	ns    events.Namespace
}

// NewAPI returns the API over s with the given users; ns names the subjects
// the catalog lists.
func NewAPI(s store.Store, users Users, ns events.Namespace, log *slog.Logger) *API {
	return &API{store: s, auth: newBasicAuth(users), cat: events.Default(), log: log, ns: ns}
}

// knownTypes are the names and event types a query may filter on: the
// catalog's, the outcome actions' and the event log's own.
var knownTypes = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, t := range events.Default().Types() {
		m[t.Name], m[t.TypeName] = true, true
	}
	for _, act := range events.Actions {
		m[ActionName(act)], m[act.TypeName] = true, true
	}
	for _, t := range recordTypes {
		m[t.Name], m[t.EventType] = true, true
	}
	return m
})

// Mount adds the API's routes to r.
func (a *API) Mount(r chi.Router) {
	r.Get("/api/events", a.events)
	r.Get("/api/event-types", a.eventTypes)
	r.Get("/api/event-types.csv", a.eventTypesCSV)
}

type apiError struct {
	Code    int    `json:"error_code"`
	Message string `json:"error_message"`
}

// ErrorMessage is the message of an error code.
func ErrorMessage(code int) string { return errorMessages[code] }

// ErrorStatus is the HTTP status answered with an error code.
func ErrorStatus(code int) int {
	switch code {
	case ErrAuth:
		return http.StatusUnauthorized
	case ErrStore:
		return http.StatusServiceUnavailable
	}
	return http.StatusBadRequest
}

// ErrorCodes lists every error code of the events API, in order.
func ErrorCodes() []int {
	codes := make([]int, 0, len(errorMessages))
	for c := range errorMessages {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	return codes
}

func fail(w http.ResponseWriter, code int) {
	_ = httpserver.WriteJSON(w, ErrorStatus(code), apiError{Code: code, Message: errorMessages[code]})
}

// EventInfo is one result, in the seed's shape plus idsync's fields.
type EventInfo struct {
	EventIdentifier string `json:"event_identifier"`
	PersonID        string `json:"person_id"`
	Occurred        int64  `json:"occurred"`
	EventType       string `json:"event_type"`
	EventName       string `json:"event_name"`
	ClientIP        string `json:"client_ip"`
	UserAgent       string `json:"user_agent"`
	PartitionID     string `json:"partition_id"`
	EventAgentUser  string `json:"event_agent_user"`
	Reason          string `json:"reason"`
	// idsync's additions.
	Kind          string `json:"kind"`
	Type          string `json:"type"`
	Outcome       string `json:"outcome,omitempty"`
	Provider      string `json:"provider,omitempty"`
	RuleID        string `json:"rule_id,omitempty"`
	SourceEventID string `json:"source_event_id,omitempty"`
	PersonEmail   string `json:"person_email,omitempty"`
}

// ResultSet is the answer of /api/events.
type ResultSet struct {
	ResultSet  []EventInfo `json:"resultSet"`
	Pagination Pagination  `json:"pagination"`
	// NextCursor continues after this page (keyset pagination); absent on
	// the last page.
	NextCursor string `json:"nextCursor,omitempty"`
}

// Pagination is the seed's pagination object.
type Pagination struct {
	Offset       int `json:"offset"`
	PageSize     int `json:"pageSize"`
	TotalResults int `json:"totalResults"`
}

// ParseQuery validates the events API's parameters in a fixed order
// (limit, offset, actor/userId, then idsync's filters) and returns the
// query, or the first error code. The CLI validates its flags with it too.
func ParseQuery(v url.Values) (store.Query, int) {
	get := func(k string) string {
		if vs := v[k]; len(vs) > 0 {
			return vs[0]
		}
		return ""
	}
	var q store.Query
	limit, err := strconv.Atoi(get("limit"))
	if err != nil || limit < 1 || limit > 1000 {
		return q, ErrLimit
	}
	q.Limit = limit
	if c := get("cursor"); c != "" {
		pos, ok := decodeCursor(c)
		if !ok {
			return q, ErrCursor
		}
		q.After = &pos
	}
	if raw := get("offset"); raw != "" || q.After == nil {
		off, err := strconv.Atoi(raw)
		if err != nil || off < 0 {
			return q, ErrOffset
		}
		q.Offset = off
	}
	q.UserID, q.Actor = strings.TrimSpace(get("userId")), strings.TrimSpace(get("actor"))
	if q.UserID == "" && q.Actor == "" {
		return q, ErrActor
	}
	if t := get("type"); t != "" {
		if !knownTypes()[t] {
			return q, ErrType
		}
		q.Type = t
	}
	for k, dst := range map[string]*time.Time{"from": &q.From, "to": &q.To} {
		if raw := get(k); raw != "" {
			tm, ok := parseTime(raw)
			if !ok {
				return q, ErrTime
			}
			*dst = tm
		}
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return q, ErrTime
	}
	if o := strings.ToLower(get("outcome")); o != "" {
		if !outcomes[o] {
			return q, ErrOutcome
		}
		q.Outcome = o
	}
	return q, 0
}

// minMillis and maxMillis bound the times the API takes, in parameters
// and cursors alike: the years 1 to 9999, which RFC 3339 and both stores
// represent (a cursor beyond them would fail in PostgreSQL, as a 503).
var (
	minMillis = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	maxMillis = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli() - 1
)

func parseTime(s string) (time.Time, bool) {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil && ms >= 0 && ms <= maxMillis {
		return time.UnixMilli(ms).UTC(), true
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil && t.Year() >= 1 && t.Year() <= 9999 {
		return t.UTC(), true
	}
	return time.Time{}, false
}

// Cursors are opaque to clients: base64 of "<occurred ms>.<seq>".
func encodeCursor(r store.Record) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(r.Occurred.UnixMilli(), 10) + "." + strconv.FormatInt(r.Seq, 10)))
}

func decodeCursor(s string) (store.Position, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return store.Position{}, false
	}
	ms, seq, ok := strings.Cut(string(b), ".")
	if !ok {
		return store.Position{}, false
	}
	m, err1 := strconv.ParseInt(ms, 10, 64)
	q, err2 := strconv.ParseInt(seq, 10, 64)
	if err1 != nil || err2 != nil || q < 0 || m < minMillis || m > maxMillis {
		return store.Position{}, false
	}
	return store.Position{Occurred: time.UnixMilli(m).UTC(), Seq: q}, true
}

func (a *API) authorized(w http.ResponseWriter, r *http.Request) bool {
	if _, ok := a.auth.check(r); ok {
		return true
	}
	w.Header().Set("WWW-Authenticate", `Basic realm="idsync events", charset="UTF-8"`)
	fail(w, ErrAuth)
	return false
}

func (a *API) events(w http.ResponseWriter, r *http.Request) {
	if !a.authorized(w, r) {
		return
	}
	q, code := ParseQuery(r.URL.Query())
	if code != 0 {
		fail(w, code)
		return
	}
	page, err := a.store.Query(r.Context(), q)
	if err != nil {
		logging.FromContext(r.Context(), a.log).Error("events query failed", logging.Err(err))
		w.Header().Set("Retry-After", "5")
		fail(w, ErrStore)
		return
	}
	_ = httpserver.WriteJSON(w, http.StatusOK, NewResultSet(q, page))
}

// NewResultSet is the answer to q: the page's records, the seed's
// pagination and, when the page is full, the cursor of the next one.
func NewResultSet(q store.Query, page store.Page) ResultSet {
	out := ResultSet{ResultSet: make([]EventInfo, 0, len(page.Records)), Pagination: Pagination{Offset: q.Offset, PageSize: q.Limit, TotalResults: page.Total}}
	for _, rec := range page.Records {
		out.ResultSet = append(out.ResultSet, Info(rec))
	}
	if n := len(page.Records); n == q.Limit && n > 0 {
		out.NextCursor = encodeCursor(page.Records[n-1])
	}
	return out
}

// Info is a record as the API shows it.
func Info(r store.Record) EventInfo {
	return EventInfo{
		EventIdentifier: r.ID, PersonID: r.PersonID, Occurred: r.Occurred.UnixMilli(), EventType: r.EventType, EventName: r.EventName,
		ClientIP: r.ClientIP, UserAgent: r.UserAgent, PartitionID: r.Partition, EventAgentUser: r.Actor, Reason: r.Reason,
		Kind: r.Kind, Type: r.Type, Outcome: r.Outcome, Provider: r.Provider, RuleID: r.RuleID, SourceEventID: r.SourceEventID,
		PersonEmail: r.PersonEmail,
	}
}
