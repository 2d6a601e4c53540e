package store

import (
	"slices"
	"testing"
)

func TestNeedles(t *testing.T) {
	t.Parallel()
	cases := []struct {
		id   string
		want []string
	}{
		{"Ann@Example.com", []string{`"ann@example.com"`}},
		{"00uANN", []string{`"00uann"`}},
		// protojson, which wrote the payload, keeps <, > and &;
		// encoding/json escapes them.
		{"D<&>n@example.com", []string{`"d<&>n@example.com"`, `"d\u003c\u0026\u003en@example.com"`}},
		{`say "hi"`, []string{`"say \"hi\""`}},
		{"Ünal", []string{`"Ünal"`}}, // ASCII letters only are lower-cased
		{"abc", []string{`"abc"`}},
		{"ab", nil},
		{"ÜÖ", nil},
		{"", nil},
	}
	for _, tc := range cases {
		var got []string
		for _, n := range Needles(tc.id) {
			got = append(got, string(n))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Needles(%q) = %q, want %q", tc.id, got, tc.want)
		}
	}
}

func TestMentions(t *testing.T) {
	t.Parallel()
	payload := []byte(`{"items":[{"person":{"sourceId":"00uAnn","email":"Ann@Example.com","login":"ann"}},` +
		`{"person":{"email":"joanne@example.com","login":"d<&>n"}}],"stats":{"notes":["no login for ann@example.com"]}}`)
	cases := []struct {
		id   string
		want bool
	}{
		{"00uann", true},
		{"ANN@example.com", true},
		{"ann", true},
		{"D<&>N", true},
		{"anne@example.com", false},
		{"example.com", false}, // part of a value only
		{"joanne", false},
		{"an", false}, // too short
	}
	for _, tc := range cases {
		if got := Mentions(payload, tc.id); got != tc.want {
			t.Errorf("Mentions(%q) = %v, want %v", tc.id, got, tc.want)
		}
	}
	if Mentions(nil, "ann") {
		t.Error("an empty payload mentions someone")
	}
}
