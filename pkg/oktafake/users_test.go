package oktafake

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestStatusFilter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		expr string
		want string // sorted statuses, "!" for a refusal
	}{
		{`status eq "DEPROVISIONED"`, "DEPROVISIONED"},
		{`status eq "ACTIVE" or status eq "suspended"`, "ACTIVE SUSPENDED"},
		{`profile.login eq "a@example.com"`, "!"},
		{`status eq ACTIVE`, "!"},
		{`status eq "ACTIVE" and status eq "STAGED"`, "!"},
	} {
		got, ok := statusFilter(tc.expr)
		var names []string
		for s := range got {
			names = append(names, s)
		}
		desc := "!"
		if ok {
			slices.Sort(names)
			desc = strings.Join(names, " ")
		}
		if desc != tc.want {
			t.Errorf("statusFilter(%q) = %q, want %q", tc.expr, desc, tc.want)
		}
	}
}

// FuzzStatusFilter: any filter the fake is sent is read or refused, never
// a panic; a filter written from statuses reads back as those statuses.
func FuzzStatusFilter(f *testing.F) {
	f.Add(`status eq "DEPROVISIONED"`, "ACTIVE")
	f.Add(`status eq "A" or status eq "B"`, "SUSPENDED")
	f.Fuzz(func(t *testing.T, expr, status string) {
		_, _ = statusFilter(expr)
		if strings.Contains(status, " or ") {
			return
		}
		got, ok := statusFilter("status eq " + strconv.Quote(status) + " or status eq \"ACTIVE\"")
		if !ok || !got[strings.ToUpper(status)] || !got["ACTIVE"] {
			t.Fatalf("status %q: %v %v", status, got, ok)
		}
	})
}
