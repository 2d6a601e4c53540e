package events_test

import (
	"testing"

	"github.com/idsync/idsync/pkg/events"
)

func TestNamespaceValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ns  events.Namespace
		ok  bool
		why string
	}{
		{"idsync", true, "the default"},
		{"t0a1", true, "letters and digits"},
		{"a", true, "one letter"},
		{"idsync-test_2", true, "dash and underscore"},
		{"", false, "empty"},
		{"Idsync", false, "upper case: stream names are upper-cased, so two namespaces would share streams"},
		{"a.b", false, "a dot would make two subject tokens"},
		{"a>", false, "a wildcard"},
		{"a*", false, "a wildcard"},
		{"a b", false, "a space"},
		{"1abc", false, "starts with a digit"},
		{"abcdefghijklmnopqrstuvwxyzabcdefg", false, "33 characters"},
	}
	for _, tt := range tests {
		err := tt.ns.Validate()
		if (err == nil) != tt.ok {
			t.Errorf("Validate(%q) = %v, want ok=%v (%s)", tt.ns, err, tt.ok, tt.why)
		}
	}
}

func TestNamespaceSubjects(t *testing.T) {
	t.Parallel()
	ns := events.Namespace("t0a1")
	ty, _ := events.Default().Lookup(events.OktaDeleteUser)
	tests := []struct{ got, want string }{
		{ns.Subject(ty), "t0a1.events.okta.delete.user"},
		{ns.Events(), "t0a1.events.>"},
		{ns.Outcomes(), "t0a1.outcomes.>"},
		{ns.DLQ(), "t0a1.dlq.>"},
		{ns.DLQSubject("gitlab-sync"), "t0a1.dlq.gitlab-sync"},
		{events.Namespace("my-ns").Stream("EVENTS"), "MY_NS_EVENTS"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	for _, tt := range []struct {
		subject string
		rel     string
		ok      bool
	}{
		{"t0a1.events.x", "events.x", true},
		{"t0a1x.events.x", "", false},
		{"idsync.events.x", "", false},
		{"t0a1", "", false},
	} {
		rel, ok := ns.Relative(tt.subject)
		if ok != tt.ok || (ok && rel != tt.rel) {
			t.Errorf("Relative(%q) = %q, %v; want %q, %v", tt.subject, rel, ok, tt.rel, tt.ok)
		}
	}
}
