package okta

import (
	"net/http"
	"net/url"
	"testing"
)

func TestNextAfter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		values    []string
		want      string
		wantFound bool
		wantErr   bool
	}{
		{"no header", nil, "", false, false},
		{"self only", []string{`<https://x.okta.com/api/v1/users?limit=2>; rel="self"`}, "", false, false},
		{"Okta's two headers", []string{`<https://x.okta.com/api/v1/users?limit=2>; rel="self"`, `<https://x.okta.com/api/v1/users?after=00u2&limit=2>; rel="next"`}, "00u2", true, false},
		{"one header, two links", []string{`<https://x/api/v1/users?limit=2>; rel="self", <https://x/api/v1/users?after=abc%3D&limit=2>; rel="next"`}, "abc=", true, false},
		{"several relation types, quoted parameters", []string{`<https://x/a?after=c1>; title="a, b; c"; rel="prev next"`}, "c1", true, false},
		{"unquoted, upper-case rel", []string{`<https://x/a?after=c2>; REL=NEXT`}, "c2", true, false},
		{"next without a cursor", []string{`<https://x/a?limit=2>; rel="next"`}, "", false, true},
		{"malformed URI", []string{`<http://[::1%zz/a?after=x>; rel="next"`}, "", false, true},
		{"no angle brackets", []string{`https://x/a?after=c3; rel="next"`}, "", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tc.values {
				h.Add("Link", v)
			}
			got, found, err := NextAfter(h)
			if got != tc.want || found != tc.wantFound || (err != nil) != tc.wantErr {
				t.Fatalf("NextAfter(%q) = %q, %v, %v; want %q, %v, error %v", tc.values, got, found, err, tc.want, tc.wantFound, tc.wantErr)
			}
		})
	}
}

// FuzzNextAfter: whatever Link header a server sends, reading the cursor
// never panics (the SDK's own reader does on a malformed URI); a next link
// found always carries a cursor; and the header followed by a well-formed
// next link either fails on the header or finds a cursor.
func FuzzNextAfter(f *testing.F) {
	f.Add(`<https://x.okta.com/api/v1/users?after=00u2&limit=2>; rel="next"`)
	f.Add(`<https://x/a?limit=2>; rel="self", <https://x/a?after=a,b>; rel="next"`)
	f.Fuzz(func(t *testing.T, header string) {
		h := http.Header{"Link": {header}}
		after, found, err := NextAfter(h)
		if found && (after == "" || err != nil) {
			t.Fatalf("NextAfter(%q) = %q, found, %v: a found link must carry a cursor", header, after, err)
		}
		if !found && after != "" {
			t.Fatalf("NextAfter(%q) = %q without a link", header, after)
		}
		next := "<https://x.okta.com/api/v1/users?" + url.Values{"after": {"c1"}}.Encode() + `>; rel="next"`
		h.Add("Link", next)
		if _, found2, err2 := NextAfter(h); err == nil && !found && (err2 != nil || !found2) {
			t.Fatalf("header %q then %s: found %v, %v", header, next, found2, err2)
		}
	})
}
