package consolehook_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/idsync/idsync/pkg/apierror"
	"github.com/idsync/idsync/pkg/consolehook"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/testdata"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

func newParser(t testing.TB, rawMax int) *consolehook.Parser {
	t.Helper()
	p, err := consolehook.NewParser(events.Default(), rawMax)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var meta = consolehook.Meta{Route: "/console/events", ReceivedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}

func TestParseEveryExample(t *testing.T) {
	t.Parallel()
	userEvents := []string{"company_user_added", "user_added", "company_user_edited", "company_user_removed"}
	names := testdata.ConsoleEventNames()
	// Every name idsync accepts has an example, and no example is for a name
	// idsync does not accept.
	if got, want := slices.Sorted(slices.Values(names)), slices.Sorted(slices.Values(consolehook.EventNames())); !slices.Equal(got, want) {
		t.Errorf("examples %v, accepted names %v", got, want)
	}
	p := newParser(t, 1<<20)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			body := testdata.Console(name)
			ev, err := p.Parse(body, meta)
			if err != nil {
				t.Fatal(err)
			}
			wantType := "console." + name
			switch {
			case slices.Contains(userEvents, name):
				wantType = events.ConsoleUpdateUserPermission
			case name == "project_created":
				wantType = events.ConsoleCreateProject
			}
			if ev.Type.Name != wantType {
				t.Errorf("type = %s, want %s", ev.Type.Name, wantType)
			}
			if ev.Payload.ProtoReflect().Descriptor() != ev.Type.Payload.Descriptor() {
				t.Errorf("payload is %T", ev.Payload)
			}
			if !strings.HasPrefix(ev.ID, "console-") {
				t.Errorf("ID = %q", ev.ID)
			}

			// The subject is the affected user or project; the source names
			// the company, so consumers can tell tenants apart.
			var wantSubject, company string
			switch pl := ev.Payload.(type) {
			case *eventsv1.ConsoleUserPermissionChanged:
				wantSubject, company = pl.GetUserId(), pl.GetResource().GetCompanyId()
				if pl.GetConsoleEventName() != name {
					t.Errorf("consoleEventName = %q", pl.GetConsoleEventName())
				}
			case *eventsv1.ConsoleProjectCreated:
				wantSubject, company = pl.GetProjectId(), pl.GetTenantId()
			case *eventsv1.ConsoleServiceCreated:
				wantSubject, company = pl.GetProjectId(), pl.GetTenantId()
			case *eventsv1.ConsoleConfigurationSaved:
				wantSubject, company = pl.GetProjectId(), pl.GetTenantId()
			case *eventsv1.ConsoleTagCreated:
				wantSubject, company = pl.GetProjectId(), pl.GetTenantId()
			case *eventsv1.ConsoleTagDeleted:
				wantSubject, company = pl.GetProjectId(), pl.GetTenantId()
			default:
				t.Fatalf("unexpected payload %T", pl)
			}
			if wantSubject == "" || ev.Subject != wantSubject {
				t.Errorf("subject = %q, want %q", ev.Subject, wantSubject)
			}
			if company == "" || !strings.HasSuffix(ev.Source, ":"+company) {
				t.Errorf("source = %q, want it to end with the company id %q", ev.Source, company)
			}
			if _, err := events.Encode(events.DefaultNamespace, ev); err != nil {
				t.Errorf("Encode: %v", err)
			}
		})
	}
}

func TestParseUserEventPayload(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change eventsv1.PermissionChange
		want   *eventsv1.ConsoleResource
	}{
		{"company_user_added", eventsv1.PermissionChange_PERMISSION_CHANGE_ADDED, &eventsv1.ConsoleResource{CompanyId: "my-company-id"}},
		{"user_added", eventsv1.PermissionChange_PERMISSION_CHANGE_ADDED, &eventsv1.ConsoleResource{CompanyId: "my-company-id", ProjectId: "my-project-oid", EnvironmentId: "my-env-id"}},
		{"company_user_edited", eventsv1.PermissionChange_PERMISSION_CHANGE_EDITED, &eventsv1.ConsoleResource{CompanyId: "my-company-id", ProjectId: "my-project-oid", EnvironmentId: "my-env-id"}},
		{"company_user_removed", eventsv1.PermissionChange_PERMISSION_CHANGE_REMOVED, &eventsv1.ConsoleResource{CompanyId: "my-company-id", ProjectId: "my-project-oid", EnvironmentId: "my-env-id"}},
	}
	p := newParser(t, 1<<20)
	for _, tt := range tests {
		ev, err := p.Parse(testdata.Console(tt.name), meta)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		pl := ev.Payload.(*eventsv1.ConsoleUserPermissionChanged)
		if pl.Change != tt.change || !proto.Equal(pl.Resource, tt.want) || pl.UserId != "my-user-id" || pl.Email != "my-user-email@mia-platform.eu" {
			t.Errorf("%s: payload %v", tt.name, pl)
		}
		// eventTimestamp is Unix milliseconds.
		if want := time.UnixMilli(pl.EventTimestampMs).UTC(); !ev.Time.Equal(want) {
			t.Errorf("%s: time %v, want %v", tt.name, ev.Time, want)
		}
	}
}

func TestParseKeepsRawBodyBounded(t *testing.T) {
	t.Parallel()
	body := testdata.Console("tag_deleted")
	for _, tt := range []struct {
		max       int
		truncated bool
	}{{len(body), false}, {len(body) - 1, true}, {10, true}} {
		ev, err := newParser(t, tt.max).Parse(body, meta)
		if err != nil {
			t.Fatal(err)
		}
		o := ev.Payload.(*eventsv1.ConsoleTagDeleted).GetOrigin()
		if o.RawTruncated != tt.truncated || len(o.Raw) != min(tt.max, len(body)) || string(o.Raw) != string(body[:len(o.Raw)]) {
			t.Errorf("max %d: raw %d bytes, truncated %v", tt.max, len(o.Raw), o.RawTruncated)
		}
		if o.Channel != consolehook.ChannelWebhook || o.SourceEventType != "tag_deleted" || o.Route != meta.Route {
			t.Errorf("origin = %v", o)
		}
	}
}

// The dedupe id is the Nats-Msg-Id: a re-sent event must hash the same
// however its JSON is laid out, and any change that matters must not.
func TestDedupeID(t *testing.T) {
	t.Parallel()
	const base = `{"eventName":"company_user_edited","eventTimestamp":123456,"payload":{"userId":"u1","email":"u1@example.com","roleId":"guest","resource":{"companyId":"c1"}}}`
	tests := []struct {
		name string
		body string
		same bool
	}{
		{"identical", base, true},
		{"member order", `{"payload":{"resource":{"companyId":"c1"},"roleId":"guest","email":"u1@example.com","userId":"u1"},"eventTimestamp":123456,"eventName":"company_user_edited"}`, true},
		{"whitespace", "{\n  \"eventName\": \"company_user_edited\",\n  \"eventTimestamp\": 123456,\n  \"payload\": {\n    \"userId\": \"u1\", \"email\": \"u1@example.com\",\n    \"roleId\": \"guest\", \"resource\": {\"companyId\": \"c1\"}\n  }\n}\n", true},
		{"escaped string", `{"eventName":"company_user_edited","eventTimestamp":123456,"payload":{"userId":"\u0075\u0031","email":"u1@example.com","roleId":"guest","resource":{"companyId":"c1"}}}`, true},
		{"eventName", strings.Replace(base, "company_user_edited", "company_user_removed", 1), false},
		{"eventTimestamp", strings.Replace(base, "123456", "123457", 1), false},
		{"payload value", strings.Replace(base, `"guest"`, `"developer"`, 1), false},
		{"nested payload value", strings.Replace(base, `"c1"`, `"c2"`, 1), false},
		{"added payload member", strings.Replace(base, `"roleId"`, `"groupId":"g1","roleId"`, 1), false},
	}
	p := newParser(t, 1<<20)
	want, err := p.Parse([]byte(base), meta)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev, err := p.Parse([]byte(tt.body), meta)
			if err != nil {
				t.Fatal(err)
			}
			if same := ev.ID == want.ID; same != tt.same {
				t.Errorf("ID %s vs %s: same = %v, want %v", ev.ID, want.ID, same, tt.same)
			}
		})
	}
	// The user_added spelling is a different delivery from company_user_added.
	a, errA := p.Parse([]byte(`{"eventName":"user_added","eventTimestamp":1,"payload":{"userId":"u","email":"e","roleId":"r","resource":{"companyId":"c"}}}`), meta)
	b, errB := p.Parse([]byte(`{"eventName":"company_user_added","eventTimestamp":1,"payload":{"userId":"u","email":"e","roleId":"r","resource":{"companyId":"c"}}}`), meta)
	if errA != nil || errB != nil || a.ID == b.ID {
		t.Errorf("user_added and company_user_added: %v %v, ids %s %s", errA, errB, a.ID, b.ID)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		code apierror.Code
	}{
		{"empty", ``, apierror.InvalidJSON},
		{"not JSON", `eventName=x`, apierror.InvalidJSON},
		{"array", `[]`, apierror.InvalidJSON},
		{"two values", `{} {}`, apierror.InvalidJSON},
		{"duplicate member", `{"eventName":"tag_created","eventName":"tag_deleted"}`, apierror.InvalidJSON},
		{"invalid UTF-8", "{\"eventName\":\"\xff\"}", apierror.InvalidJSON},
		{"no eventName", `{"eventTimestamp":1,"payload":{}}`, apierror.SchemaViolation},
		{"eventName not a string", `{"eventName":1}`, apierror.SchemaViolation},
		{"unknown eventName", `{"eventName":"project_deleted","eventTimestamp":1,"payload":{}}`, apierror.UnknownEvent},
		{"missing payload", `{"eventName":"tag_created","eventTimestamp":1}`, apierror.SchemaViolation},
		{"timestamp is a string", `{"eventName":"tag_created","eventTimestamp":"1","payload":{}}`, apierror.SchemaViolation},
		{"extra top-level member", `{"eventName":"tag_created","eventTimestamp":1,"payload":{},"x":1}`, apierror.SchemaViolation},
		{"user event without userId", `{"eventName":"company_user_removed","eventTimestamp":1,"payload":{"email":"e","resource":{"companyId":"c"}}}`, apierror.SchemaViolation},
		{"user event without companyId", `{"eventName":"company_user_removed","eventTimestamp":1,"payload":{"userId":"u","email":"e","resource":{}}}`, apierror.SchemaViolation},
		{"timestamp too large", `{"eventName":"tag_created","eventTimestamp":1e300,"payload":{}}`, apierror.SchemaViolation},
		// Microseconds instead of milliseconds land in the year 56000: no
		// consumer could read the event back, so it is refused up front.
		{"timestamp past year 9999", `{"eventName":"tag_created","eventTimestamp":1718611200000000,"payload":{}}`, apierror.SchemaViolation},
		{"timestamp before year 0", `{"eventName":"tag_created","eventTimestamp":-62167219200001,"payload":{}}`, apierror.SchemaViolation},
	}
	p := newParser(t, 1<<20)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := p.Parse([]byte(tt.body), meta)
			var ae *apierror.Error
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v (%T), want *apierror.Error", err, err)
			}
			if ae.Code != tt.code {
				t.Errorf("code = %s, want %s (%v)", ae.Code, tt.code, err)
			}
		})
	}
}

// Valid edge cases of the timestamp: fractional, negative, at the bounds.
func TestParseTimestamps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ts   string
		want time.Time
	}{
		{"0", time.UnixMilli(0)},
		{"1718611200000", time.UnixMilli(1718611200000)},
		{"1718611200000.9", time.UnixMilli(1718611200000)},
		{"1.7186112e12", time.UnixMilli(1718611200000)},
		{"-1000", time.UnixMilli(-1000)},
		{"253402300799999", time.Date(9999, 12, 31, 23, 59, 59, 999_000_000, time.UTC)},
		{"-62167219200000", time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	p := newParser(t, 1<<20)
	for _, tt := range tests {
		ev, err := p.Parse([]byte(`{"eventName":"tag_created","eventTimestamp":`+tt.ts+`,"payload":{"projectId":"p"}}`), meta)
		if err != nil {
			t.Errorf("%s: %v", tt.ts, err)
			continue
		}
		if !ev.Time.Equal(tt.want) {
			t.Errorf("%s: time %v, want %v", tt.ts, ev.Time, tt.want)
		}
		if _, err := events.Encode(events.DefaultNamespace, ev); err != nil {
			t.Errorf("%s: Encode: %v", tt.ts, err)
		}
	}
}
