package eventlog

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/idsync/idsync/pkg/consolehook"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/oktahook"
)

// catalogOf fetches /api/event-types (no credentials: the catalog is public
// documentation of the contract).
func catalogOf(t *testing.T, query string) []TypeInfo {
	t.Helper()
	srv := apiServer(t, openSQLite(t))
	status, _, body := get(t, srv, "/api/event-types"+query, func(*http.Request) {})
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	var out struct {
		EventTypes []TypeInfo `json:"eventTypes"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	return out.EventTypes
}

// oktaEventTypes reads every Okta event type from the catalog data the
// gateway embeds.
func oktaEventTypes(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("../../pkg/events/okta-event-types.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := -1
	for i, h := range rows[0] {
		if strings.TrimSpace(h) == "event_type" {
			col = i
		}
	}
	if col < 0 {
		t.Fatalf("no event type column in %v", rows[0])
	}
	var out []string
	for _, r := range rows[1:] {
		out = append(out, r[col])
	}
	return out
}

// TestCatalogListsEverythingPublished derives what the gateway can publish
// and what consumers can publish from the code that publishes it (the
// gateway's routing of every Okta event type and Console event name, the
// registration hook, the outcome and alert types of every provider, every
// outcome action) and checks each is in /api/event-types, and accepted by
// the events filter.
func TestCatalogListsEverythingPublished(t *testing.T) {
	listed := map[string]TypeInfo{}
	byEventType := map[string]bool{}
	for _, ti := range catalogOf(t, "") {
		if _, dup := listed[ti.Name]; dup {
			t.Errorf("%s listed twice", ti.Name)
		}
		listed[ti.Name] = ti
		byEventType[ti.EventType] = true
	}
	cat := events.Default()
	want := map[string]string{} // name → why it must be listed

	// Okta event hooks, with every type forwarded and deactivation counted
	// as deletion: the widest the gateway can be configured.
	routing := oktahook.Routing{Forward: []string{"*"}, DeactivateDeletes: true}
	okta := oktaEventTypes(t)
	if len(okta) < 1000 {
		t.Fatalf("only %d Okta event types read", len(okta))
	}
	for _, et := range okta {
		if typ, ok := routing.Route(cat, et); ok {
			want[typ.Name] = "Okta event " + et
		}
	}
	for _, name := range consolehook.EventNames() {
		typ, ok := cat.ConsoleEvent(name)
		if !ok {
			t.Errorf("Console event %s has no type", name)
			continue
		}
		want[typ.Name] = "Console event " + name
	}
	want[events.OktaVerifyEmail] = "registration inline hook"
	for _, provider := range events.Providers {
		for _, st := range cat.SyncTypesFor(provider) {
			ot, ok := cat.OutcomeType(provider, st.Name)
			if !ok {
				t.Errorf("%s acts on %s but has no outcome type", provider, st.Name)
				continue
			}
			want[ot.Name] = provider + " outcome of " + st.Name
		}
		want[events.GuardTypeName(provider)] = provider + " guard alert"
	}
	for _, a := range events.Actions {
		want[ActionName(a)] = "outcome action " + a.Name
		if !byEventType[a.TypeName] {
			t.Errorf("the event log's type %s of action %s is not listed", a.TypeName, a.Name)
		}
	}
	for _, rt := range recordTypes {
		want[rt.Name] = "event log record"
	}

	for name, why := range want {
		ti, ok := listed[name]
		if !ok {
			t.Errorf("%s (%s) is not in /api/event-types", name, why)
			continue
		}
		if ti.Description == "" || ti.EventType == "" || ti.DisplayName == "" || ti.Since == "" || ti.Source == "" || ti.Payload == "" {
			t.Errorf("%s is listed without its description, type, display name, source, payload or since: %+v", name, ti)
		}
		for _, typ := range []string{ti.Name, ti.EventType} {
			if _, code := ParseQuery(url.Values{"limit": {"1"}, "offset": {"0"}, "userId": {"x"}, "type": {typ}}); code != 0 {
				t.Errorf("the events filter refuses the listed type %s (code %d)", typ, code)
			}
		}
	}
	if len(want) < 1000 {
		t.Errorf("only %d types derived; the derivation is broken", len(want))
	}
}

func TestCatalogFiltersAndCSV(t *testing.T) {
	all := catalogOf(t, "")
	cases := []struct {
		query string
		keep  func(TypeInfo) bool
	}{
		{"?kind=sync", func(ti TypeInfo) bool { return ti.Kind == "sync" }},
		{"?kind=outcome", func(ti TypeInfo) bool { return ti.Kind == "outcome" }},
		{"?kind=action", func(ti TypeInfo) bool { return ti.Kind == KindAction }},
		{"?source=console", func(ti TypeInfo) bool { return ti.Source == "console" }},
		{"?tag=sync-eligible", func(ti TypeInfo) bool { return contains(ti.Tags, "sync-eligible") }},
		{"?tag=okta-event-hook-eligible&source=okta", func(ti TypeInfo) bool {
			return ti.Source == "okta" && contains(ti.Tags, "okta-event-hook-eligible")
		}},
		{"?kind=no-such-kind", func(TypeInfo) bool { return false }},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			want := 0
			for _, ti := range all {
				if tc.keep(ti) {
					want++
				}
			}
			got := catalogOf(t, tc.query)
			if len(got) != want {
				t.Errorf("%d types, want %d", len(got), want)
			}
			for _, ti := range got {
				if !tc.keep(ti) {
					t.Errorf("%s does not match the filter", ti.Name)
				}
			}
			if tc.query != "?kind=no-such-kind" && want == 0 {
				t.Error("the filter matches nothing; the case tests nothing")
			}
		})
	}

	srv := apiServer(t, openSQLite(t))
	status, h, body := get(t, srv, "/api/event-types.csv", func(*http.Request) {})
	if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") {
		t.Fatalf("status %d, Content-Type %q", status, h.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(all)+1 {
		t.Fatalf("%d CSV rows, want a header and %d types", len(rows), len(all))
	}
	for i, ti := range all {
		if rows[i+1][0] != ti.EventType || rows[i+1][1] != ti.Name {
			t.Fatalf("row %d: %v, want %s %s", i+1, rows[i+1][:2], ti.EventType, ti.Name)
		}
	}
}
