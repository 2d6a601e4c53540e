package oktafake

import (
	"errors"
	"strings"
	"testing"
)

var filterEvents = []LogEvent{
	{UUID: "1", EventType: "user.lifecycle.create", Outcome: "SUCCESS", Actor: LogEntity{ID: "00uadmin"},
		Target: []LogEntity{{ID: "00ubob", Type: "User", AlternateID: "bob@example.com"}}},
	{UUID: "2", EventType: "user.lifecycle.delete.initiated", Outcome: "SUCCESS",
		Target: []LogEntity{{ID: "00ubob", Type: "User", AlternateID: "bob@example.com"}, {ID: "00g1", Type: "UserGroup"}}},
	{UUID: "3", EventType: "group.user_membership.add", Outcome: "FAILURE", DisplayMessage: "Add user to group membership"},
}

func TestLogFilter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expr    string
		want    string // uuids matched
		wantErr bool
	}{
		{expr: "", want: "123"},
		{expr: `eventType eq "user.lifecycle.create"`, want: "1"},
		{expr: `eventType eq "user.lifecycle.create" or eventType eq "user.lifecycle.delete.initiated"`, want: "12"},
		{expr: `EventType eq "x"`, wantErr: true},
		{expr: `eventType EQ "USER.LIFECYCLE.CREATE"`, want: "1"},
		{expr: `target.type eq "UserGroup"`, want: "2"},
		{expr: `target.alternateId sw "BOB@" and eventType co "delete"`, want: "2"},
		{expr: `outcome.result ne "SUCCESS"`, want: "3"},
		{expr: `actor.id pr`, want: "1"},
		{expr: `(eventType eq "a" or displayMessage co "group") and outcome.result eq "failure"`, want: "3"},
		{expr: `eventType gt "a"`, wantErr: true},
		{expr: `published eq "2026-01-01T00:00:00Z"`, wantErr: true},
		{expr: `eventType eq user.lifecycle.create`, wantErr: true},
		{expr: `eventType eq "unterminated`, wantErr: true},
		{expr: `(eventType eq "a"`, wantErr: true},
		{expr: `eventType eq "a" or`, wantErr: true},
		{expr: `eventType eq "a" "b"`, wantErr: true},
		{expr: strings.Repeat("(", 40) + `eventType eq "a"` + strings.Repeat(")", 40), wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			t.Parallel()
			f, err := parseLogFilter(tc.expr)
			if tc.wantErr {
				if err == nil || !errors.Is(err, errFilter) {
					t.Fatalf("parsed, want an invalid-search-criteria error (got %v)", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			for i := range filterEvents {
				if f(&filterEvents[i]) {
					got += filterEvents[i].UUID
				}
			}
			if got != tc.want {
				t.Fatalf("matched %q, want %q", got, tc.want)
			}
		})
	}
}

// FuzzLogFilter: any expression is refused or compiled without a panic,
// and a compiled one evaluates on any event.
func FuzzLogFilter(f *testing.F) {
	f.Add(`eventType eq "user.lifecycle.create" or eventType eq "user.lifecycle.activate"`)
	f.Add(`(target.id eq "00u1" and actor.id pr) or outcome.result ne "SUCCESS"`)
	f.Fuzz(func(t *testing.T, expr string) {
		m, err := parseLogFilter(expr)
		if err != nil {
			if !errors.Is(err, errFilter) {
				t.Fatalf("refused with %v, not an invalid-search-criteria error", err)
			}
			return
		}
		for i := range filterEvents {
			m(&filterEvents[i])
		}
		m(&LogEvent{})
	})
}
