package console

import (
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzRetryAfter: the Console's Retry-After is honoured exactly, in seconds
// (the longest Duration when it holds more) or as a date (at least a
// second); anything else waits 30 s. The delay is never negative.
func FuzzRetryAfter(f *testing.F) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for _, v := range []string{"7", " 0 ", "-1", "9223372037", "9223372036854775807", now.Add(90 * time.Second).Format(http.TimeFormat), "Mon, 01 Jan 0001 00:00:00 GMT", "soon", ""} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got := retryAfter(v, now)
		if got < 0 {
			t.Fatalf("Retry-After %q: negative delay %s", v, got)
		}
		if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
			want := time.Duration(math.MaxInt64)
			if int64(s) <= math.MaxInt64/int64(time.Second) {
				want = time.Duration(s) * time.Second
			}
			if got != want {
				t.Fatalf("Retry-After %q: %s, want %s", v, got, want)
			}
		} else if at, err := http.ParseTime(v); err == nil {
			if want := max(at.Sub(now), time.Second); got != want {
				t.Fatalf("Retry-After %q: %s, want %s", v, got, want)
			}
		} else if got != 30*time.Second {
			t.Fatalf("Retry-After %q: %s, want the 30s default", v, got)
		}
	})
}

// FuzzGroupRefs: a user's groups, as ids or objects with an _id or id, read
// as one id per element (the _id first), or not at all; ids written back as
// a list of strings read the same.
func FuzzGroupRefs(f *testing.F) {
	for _, v := range []string{`["g1", {"_id": "g2"}, {"id": "g3"}, {"_id": "g4", "id": "x"}]`, `[]`, `null`, `[null]`, `[1]`, `{"_id": "g"}`, `["\u0000", {"ID": "g"}]`, `[[]]`} {
		f.Add([]byte(`{"userId":"u1","groups":` + v + `}`))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var u User
		if err := json.Unmarshal(body, &u); err != nil {
			return
		}
		var raw struct{ Groups []json.RawMessage }
		if json.Unmarshal(body, &raw) == nil && len(u.Groups) != len(raw.Groups) {
			t.Fatalf("%d group elements read as %d ids %q", len(raw.Groups), len(u.Groups), u.Groups)
		}
		b, err := json.Marshal([]string(u.Groups))
		if err != nil {
			t.Fatal(err)
		}
		var back groupRefs
		if err := json.Unmarshal(b, &back); err != nil || !slices.Equal(back, u.Groups) {
			t.Fatalf("ids %q written as %s read back as %q (%v)", u.Groups, b, back, err)
		}
	})
}
