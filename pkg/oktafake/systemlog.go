package oktafake

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/idsync/idsync/pkg/fakehttp"
)

// LogEvent is one System Log event: the parts of Okta's LogEvent the fake
// keeps. It is served in Okta's JSON shape.
type LogEvent struct {
	UUID           string
	Published      time.Time
	EventType      string
	Severity       string
	DisplayMessage string
	Actor          LogEntity
	Target         []LogEntity
	// Outcome is outcome.result (SUCCESS, FAILURE, …).
	Outcome       string
	TransactionID string
}

// LogEntity is a System Log actor or target.
type LogEntity struct {
	ID, Type, AlternateID, DisplayName string
}

// logEntry is an event as stored: seq and stored (the "persistence time")
// are what Okta's polling requests page by; published is what bounded
// requests filter and sort by. An event can be stored later than it was
// published: the System Log is eventually consistent.
type logEntry struct {
	ev     LogEvent
	seq    int64
	stored time.Time
}

// systemLog is the org's System Log.
type systemLog struct {
	entries []logEntry
	seq     int64
}

// The actor of the changes made through the fake's API: Okta names the
// admin whose token made the call.
var apiActor = LogEntity{ID: "00ufakeadmin", Type: "User", AlternateID: "admin@fake.okta.invalid", DisplayName: "Fake Admin"}

// System Log limits of GET /api/v1/logs.
const (
	logDefaultLimit = 100
	logMaxLimit     = 1000
	// logDefaultSince is how far back a request without since reads.
	logDefaultSince = 7 * 24 * time.Hour
)

// AppendLog adds events to the System Log as stored now (tests use it to
// write any event, or one published in the past). Empty fields get Okta's
// values: a fresh uuid, published now, severity INFO, outcome SUCCESS.
func (f *Fake) AppendLog(evs ...LogEvent) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ev := range evs {
		f.appendLog(ev)
	}
}

func (f *Fake) appendLog(ev LogEvent) LogEvent {
	now := time.Now().UTC()
	if ev.UUID == "" {
		ev.UUID = newUUID()
	}
	if ev.Published.IsZero() {
		ev.Published = now
	}
	// Okta keeps published to the millisecond, and serves it so.
	ev.Published = ev.Published.UTC().Truncate(time.Millisecond)
	if ev.Severity == "" {
		ev.Severity = "INFO"
	}
	if ev.Outcome == "" {
		ev.Outcome = "SUCCESS"
	}
	f.log.seq++
	f.log.entries = append(f.log.entries, logEntry{ev: ev, seq: f.log.seq, stored: now})
	return ev
}

// Logs returns every event of the System Log in the order stored.
func (f *Fake) Logs() []LogEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]LogEvent, len(f.log.entries))
	for i, e := range f.log.entries {
		out[i] = e.ev
	}
	return out
}

// recordUser logs a user lifecycle event about u, as Okta does for a
// change made through its API. The caller holds f.mu.
func (f *Fake) recordUser(eventType, message string, u *User) LogEvent {
	name := strings.TrimSpace(u.Profile.FirstName + " " + u.Profile.LastName)
	return f.appendLog(LogEvent{
		EventType: eventType, DisplayMessage: message, Actor: apiActor, TransactionID: newID(""),
		Target: []LogEntity{{ID: u.ID, Type: "User", AlternateID: u.Profile.Login, DisplayName: name}},
	})
}

func newUUID() string {
	id := newID("") + newID("")
	return id[:8] + "-" + id[8:12] + "-" + id[12:16] + "-" + id[16:20] + "-" + id[20:32]
}

// logQuery is a parsed GET /api/v1/logs request.
type logQuery struct {
	since, until time.Time
	// polling: no until and ascending order. Okta then pages by the time
	// events were stored and always answers with a next link (possibly to
	// an empty page) that the client follows later to read what came since.
	polling    bool
	descending bool
	limit      int
	match      logFilter
	keywords   []string
	after      logCursor
}

// logCursor is the opaque after= value: the position of the last event a
// page returned (a bounded request's sort key, or a polling request's
// storage sequence).
type logCursor struct {
	set       bool
	polling   bool
	published time.Time
	seq       int64
}

func (c logCursor) encode() string {
	s := fmt.Sprintf("b:%d:%d", c.published.UnixNano(), c.seq)
	if c.polling {
		s = fmt.Sprintf("p:%d", c.seq)
	}
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

func decodeLogCursor(s string) (logCursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return logCursor{}, err
	}
	parts := strings.Split(string(b), ":")
	c := logCursor{set: true}
	switch {
	case len(parts) == 2 && parts[0] == "p":
		c.polling = true
		c.seq, err = strconv.ParseInt(parts[1], 10, 64)
	case len(parts) == 3 && parts[0] == "b":
		var ns int64
		if ns, err = strconv.ParseInt(parts[1], 10, 64); err == nil {
			c.published = time.Unix(0, ns).UTC()
			c.seq, err = strconv.ParseInt(parts[2], 10, 64)
		}
	default:
		err = errors.New("unknown cursor")
	}
	return c, err
}

// logError is an Okta error body with a code of its own (the shared
// fakehttp.WriteError knows one code per status); cause, if any, is its
// errorCauses' one summary.
func logError(w http.ResponseWriter, code, summary, cause string) {
	causes := []any{}
	if cause != "" {
		causes = append(causes, map[string]string{"errorSummary": cause})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errorCode": code, "errorSummary": summary, "errorLink": code, "errorId": "oaefake", "errorCauses": causes,
	})
}

func parseLogTime(v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, v)
	return t.UTC(), err
}

func (f *Fake) parseLogQuery(w http.ResponseWriter, r *http.Request) (logQuery, bool) {
	q := r.URL.Query()
	lq := logQuery{since: time.Now().UTC().Add(-logDefaultSince), limit: logDefaultLimit}
	for name, dst := range map[string]*time.Time{"since": &lq.since, "until": &lq.until} {
		if v := q.Get(name); v != "" {
			t, err := parseLogTime(v)
			if err != nil {
				logError(w, "E0000030", "Bad request. Invalid date. Dates must be of the form yyyy-MM-dd'T'HH:mm:ss.SSSZZ, e.g. 2013-01-01T12:00:00.000-07:00.", name)
				return lq, false
			}
			*dst = t
		}
	}
	switch q.Get("sortOrder") {
	case "", "ASCENDING":
	case "DESCENDING":
		lq.descending = true
	default:
		fakehttp.WriteError(w, fakehttp.Okta, http.StatusBadRequest, "Api validation failed: sortOrder")
		return lq, false
	}
	lq.polling = q.Get("until") == "" && !lq.descending
	if lq.until.IsZero() {
		lq.until = time.Now().UTC()
	}
	if !lq.polling && !lq.since.Before(lq.until) {
		fakehttp.WriteError(w, fakehttp.Okta, http.StatusBadRequest, "Api validation failed: since must be before until")
		return lq, false
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			fakehttp.WriteError(w, fakehttp.Okta, http.StatusBadRequest, "Api validation failed: limit")
			return lq, false
		}
		lq.limit = min(n, logMaxLimit)
	}
	m, err := parseLogFilter(q.Get("filter"))
	if err != nil {
		logError(w, "E0000031", "Invalid search criteria.", err.Error())
		return lq, false
	}
	lq.match = m
	lq.keywords = strings.Fields(strings.ToLower(q.Get("q")))
	if a := q.Get("after"); a != "" {
		c, err := decodeLogCursor(a)
		if err != nil || c.polling != lq.polling {
			fakehttp.WriteError(w, fakehttp.Okta, http.StatusBadRequest, "Api validation failed: after")
			return lq, false
		}
		lq.after = c
	}
	return lq, true
}

// listLogs is GET /api/v1/logs as Okta documents it: a bounded request
// (until given, or DESCENDING) filters by published in [since, until),
// sorts by published and ends with a page without a next link; a polling
// request reads what was stored since `since` in storage order and always
// links a next page, to follow later.
func (f *Fake) listLogs(w http.ResponseWriter, r *http.Request) {
	lq, ok := f.parseLogQuery(w, r)
	if !ok {
		return
	}
	f.mu.Lock()
	entries := slices.Clone(f.log.entries)
	base, lastSeq := f.base, f.log.seq
	f.mu.Unlock()

	var sel []logEntry
	for _, e := range entries {
		if lq.polling && e.stored.Before(lq.since) ||
			!lq.polling && (e.ev.Published.Before(lq.since) || !e.ev.Published.Before(lq.until)) {
			continue
		}
		if lq.match(&e.ev) && lq.hasKeywords(&e.ev) {
			sel = append(sel, e)
		}
	}
	if !lq.polling {
		slices.SortStableFunc(sel, func(a, b logEntry) int {
			if c := a.ev.Published.Compare(b.ev.Published); c != 0 {
				return c
			}
			return int(a.seq - b.seq)
		})
		if lq.descending {
			slices.Reverse(sel)
		}
	}
	start := 0
	if lq.after.set {
		start = len(sel)
		for i, e := range sel {
			if lq.afterCursor(e) {
				start = i
				break
			}
		}
	}
	end := min(start+lq.limit, len(sel))
	page := sel[start:end]

	w.Header().Add("Link", fmt.Sprintf("<%s%s>; rel=\"self\"", base, r.URL.RequestURI()))
	var next *logCursor
	switch {
	case lq.polling:
		// A page that did not fill has read everything stored so far: the
		// next poll starts after the newest event, matched or not.
		c := logCursor{set: true, polling: true, seq: lastSeq}
		if end < len(sel) {
			c.seq = page[len(page)-1].seq
		} else if lq.after.set && lq.after.seq > c.seq {
			c.seq = lq.after.seq
		}
		next = &c
	case end < len(sel):
		last := page[len(page)-1]
		next = &logCursor{set: true, published: last.ev.Published, seq: last.seq}
	}
	if next != nil {
		u := *r.URL
		nq := u.Query()
		nq.Set("after", next.encode())
		nq.Set("limit", strconv.Itoa(lq.limit))
		u.RawQuery = nq.Encode()
		w.Header().Add("Link", fmt.Sprintf("<%s%s>; rel=\"next\"", base, u.RequestURI()))
	}
	out := make([]map[string]any, len(page))
	for i, e := range page {
		out[i] = e.ev.wire()
	}
	writeJSON(w, http.StatusOK, out)
}

// afterCursor reports whether e comes after the request's cursor.
func (lq logQuery) afterCursor(e logEntry) bool {
	if lq.polling {
		return e.seq > lq.after.seq
	}
	c := e.ev.Published.Compare(lq.after.published)
	if c == 0 {
		c = int(e.seq - lq.after.seq)
	}
	if lq.descending {
		return c < 0
	}
	return c > 0
}

// hasKeywords is the q= search: every keyword appears, case-insensitively,
// in the event type, the display message or a target or the actor.
func (lq logQuery) hasKeywords(e *LogEvent) bool {
	if len(lq.keywords) == 0 {
		return true
	}
	hay := []string{e.EventType, e.DisplayMessage, e.Actor.AlternateID, e.Actor.DisplayName}
	for _, t := range e.Target {
		hay = append(hay, t.ID, t.AlternateID, t.DisplayName)
	}
	text := strings.ToLower(strings.Join(hay, " "))
	for _, k := range lq.keywords {
		if !strings.Contains(text, k) {
			return false
		}
	}
	return true
}

func entityJSON(e LogEntity) map[string]any {
	return map[string]any{"id": e.ID, "type": e.Type, "alternateId": e.AlternateID, "displayName": e.DisplayName, "detailEntry": nil}
}

// wire is the event in Okta's LogEvent JSON shape.
func (e LogEvent) wire() map[string]any {
	targets := make([]map[string]any, len(e.Target))
	for i, t := range e.Target {
		targets[i] = entityJSON(t)
	}
	return map[string]any{
		"uuid":            e.UUID,
		"published":       e.Published.UTC().Format("2006-01-02T15:04:05.000Z"),
		"eventType":       e.EventType,
		"version":         "0",
		"severity":        e.Severity,
		"legacyEventType": nil,
		"displayMessage":  e.DisplayMessage,
		"actor":           entityJSON(e.Actor),
		"client":          map[string]any{"ipAddress": "203.0.113.10", "userAgent": map[string]any{"rawUserAgent": "okta-sdk-golang"}, "zone": "null"},
		"outcome":         map[string]any{"result": e.Outcome, "reason": nil},
		"target":          targets,
		"transaction":     map[string]any{"type": "WEB", "id": e.TransactionID, "detail": map[string]any{}},
		"debugContext":    map[string]any{"debugData": map[string]any{}},
	}
}
