package oktalog

import (
	"fmt"
	"testing"
	"time"
)

func TestCursorHandledSet(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	var c Cursor
	c.Time = t0
	c.handle("a", t0.Add(-2*time.Minute)) // read in the overlap: Time stays
	c.handle("b", t0.Add(time.Minute))
	c.handle("c", t0.Add(time.Minute)) // same instant: both kept
	if !c.Time.Equal(t0.Add(time.Minute)) {
		t.Fatalf("Time %s, want the newest publication", c.Time)
	}
	c.prune(90 * time.Second)
	if _, ok := c.Handled["a"]; ok || len(c.Handled) != 2 {
		t.Fatalf("after pruning: %v, want b and c (a is before Time − overlap)", c.Handled)
	}
	for i := range maxHandled + 10 {
		c.handle(fmt.Sprintf("x%d", i), c.Time.Add(time.Millisecond))
	}
	c.prune(time.Hour)
	if len(c.Handled) != maxHandled {
		t.Fatalf("%d handled kept, want at most %d", len(c.Handled), maxHandled)
	}
	if _, ok := c.Handled["b"]; ok {
		t.Error("the oldest were not the ones dropped")
	}
}

func TestOrgKey(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://Example.okta.com":        "example_okta_com",
		"http://127.0.0.1:8443/":          "127_0_0_1_8443",
		"https://acme.oktapreview.com/x":  "acme_oktapreview_com",
		"":                                "org",
		"not a url with spaces and dots.": "not_a_url_with_spaces_and_dots_",
	} {
		if got := orgKey(in); got != want {
			t.Errorf("orgKey(%q) = %q, want %q", in, got, want)
		}
	}
}
