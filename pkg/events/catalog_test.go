package events_test

import (
	"encoding/csv"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/idsync/idsync/pkg/events"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

// Every consumer, the gateway and /api/event-types read these fields; an
// empty one shows up as a blank column or an unroutable subject.
func TestCatalogInvariants(t *testing.T) {
	t.Parallel()
	cat := events.Default()
	types := cat.Types()
	if len(types) == 0 {
		t.Fatal("empty catalog")
	}
	if !sort.SliceIsSorted(types, func(i, j int) bool { return types[i].Name < types[j].Name }) {
		t.Error("Types() is not sorted by name")
	}
	names, subjects := map[string]bool{}, map[string]bool{}
	for _, ty := range types {
		if ty.Name == "" {
			t.Errorf("type with subject %q has no name", ty.Subject)
			continue
		}
		if names[ty.Name] {
			t.Errorf("%s: duplicate name", ty.Name)
		}
		names[ty.Name] = true
		if subjects[ty.Subject] {
			t.Errorf("%s: duplicate subject %q", ty.Name, ty.Subject)
		}
		subjects[ty.Subject] = true
		if !strings.HasPrefix(ty.Subject, "events.") && !strings.HasPrefix(ty.Subject, "outcomes.") {
			t.Errorf("%s: subject %q is outside events.> and outcomes.>", ty.Name, ty.Subject)
		}
		// A subject token may not hold NATS wildcards or spaces.
		if strings.ContainsAny(ty.Subject, "*> \t") || strings.Contains(ty.Subject, "..") {
			t.Errorf("%s: subject %q is not a literal subject", ty.Name, ty.Subject)
		}
		if ty.Payload == nil {
			t.Errorf("%s: no payload type", ty.Name)
		}
		for field, v := range map[string]string{"DisplayName": ty.DisplayName, "TypeName": ty.TypeName, "Since": ty.Since, "AddedIn": ty.AddedIn, "Source": ty.Source, "Description": ty.Description} {
			if v == "" {
				t.Errorf("%s: empty %s", ty.Name, field)
			}
		}
		if ty.Kind == "" {
			t.Errorf("%s: no kind", ty.Name)
		}
		if got, ok := cat.Lookup(ty.Name); !ok || got != ty {
			t.Errorf("Lookup(%q) does not find it", ty.Name)
		}
		if got, ok := cat.BySubject(ty.Subject); !ok || got != ty {
			t.Errorf("BySubject(%q) does not find it", ty.Subject)
		}
	}
}

// The rule matrix of design §2, row by row. Consumers' FilterSubjects are
// derived from it, so a changed cell changes who acts on what.
func TestMatrixRows(t *testing.T) {
	t.Parallel()
	want := map[string][]string{
		events.ConsoleUpdateUserPermission: {events.ProviderOkta, events.ProviderGitLab, events.ProviderGitHub},
		events.ConsoleCreateProject:        {events.ProviderOkta},
		events.OktaCreateUser:              {events.ProviderConsole, events.ProviderGitLab},
		events.OktaDeleteUser:              {events.ProviderConsole, events.ProviderGitLab, events.ProviderGitHub},
	}
	got := map[string][]string{}
	for _, ty := range events.Default().Types() {
		if ty.Kind == events.KindSync {
			got[ty.Name] = slices.Sorted(slices.Values(ty.Providers))
			if !ty.HasTag(events.TagSyncEligible) {
				t.Errorf("%s: sync type without tag %s", ty.Name, events.TagSyncEligible)
			}
		}
	}
	for name, providers := range want {
		want[name] = slices.Sorted(slices.Values(providers))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("matrix rows =\n%v\nwant\n%v", got, want)
	}

	// SyncTypesFor is the column view of the same matrix.
	columns := map[string][]string{
		events.ProviderConsole: {events.OktaCreateUser, events.OktaDeleteUser},
		events.ProviderOkta:    {events.ConsoleCreateProject, events.ConsoleUpdateUserPermission},
		events.ProviderGitLab:  {events.ConsoleUpdateUserPermission, events.OktaCreateUser, events.OktaDeleteUser},
		events.ProviderGitHub:  {events.ConsoleUpdateUserPermission, events.OktaDeleteUser},
	}
	for provider, wantNames := range columns {
		var gotNames []string
		for _, ty := range events.Default().SyncTypesFor(provider) {
			gotNames = append(gotNames, ty.Name)
		}
		if !reflect.DeepEqual(gotNames, wantNames) {
			t.Errorf("SyncTypesFor(%s) = %v, want %v", provider, gotNames, wantNames)
		}
	}
}

func TestConsoleEvent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		eventName string
		want      string
	}{
		{"company_user_added", events.ConsoleUpdateUserPermission},
		{"user_added", events.ConsoleUpdateUserPermission}, // the seed's example spelling
		{"company_user_edited", events.ConsoleUpdateUserPermission},
		{"company_user_removed", events.ConsoleUpdateUserPermission},
		{"project_created", events.ConsoleCreateProject},
		{"service_created", "console.service_created"},
		{"configuration_saved", "console.configuration_saved"},
		{"tag_created", "console.tag_created"},
		{"tag_deleted", "console.tag_deleted"},
	}
	for _, tt := range tests {
		ty, ok := events.Default().ConsoleEvent(tt.eventName)
		if !ok {
			t.Errorf("ConsoleEvent(%q) not found", tt.eventName)
			continue
		}
		if ty.Name != tt.want {
			t.Errorf("ConsoleEvent(%q) = %s, want %s", tt.eventName, ty.Name, tt.want)
		}
	}
	for _, unknown := range []string{"", "user_removed", "console.tag_created", "project_deleted"} {
		if ty, ok := events.Default().ConsoleEvent(unknown); ok {
			t.Errorf("ConsoleEvent(%q) = %s, want none", unknown, ty.Name)
		}
	}
}

func TestOktaSync(t *testing.T) {
	t.Parallel()
	tests := []struct {
		oktaType string
		want     string // "" = raises no sync type
	}{
		{events.OktaUserCreate, events.OktaCreateUser},
		{events.OktaUserActivate, events.OktaCreateUser},
		{events.OktaUserDeleteInitiated, events.OktaDeleteUser},
		// Deactivate deletes only when the operator says so; the catalog
		// alone must not make it a sync event (oktahook.Routing decides).
		{events.OktaUserDeactivate, ""},
		{"user.session.start", ""},
		{"", ""},
	}
	for _, tt := range tests {
		ty, ok := events.Default().OktaSync(tt.oktaType)
		got := ""
		if ok {
			got = ty.Name
		}
		if got != tt.want {
			t.Errorf("OktaSync(%q) = %q, want %q", tt.oktaType, got, tt.want)
		}
	}
}

func TestOutcomeTypesOnePerMatrixCell(t *testing.T) {
	t.Parallel()
	cat := events.Default()
	cells := 0
	for _, ty := range cat.Types() {
		if ty.Kind != events.KindSync {
			continue
		}
		for _, p := range ty.Providers {
			cells++
			out, ok := cat.OutcomeType(p, ty.Name)
			if !ok {
				t.Errorf("no outcome type for %s × %s", ty.Name, p)
				continue
			}
			if out.Kind != events.KindOutcome || out.Subject != "outcomes."+p+"."+ty.Name ||
				!reflect.DeepEqual(out.Providers, []string{p}) || out.Payload.Descriptor() != (&eventsv1.Outcome{}).ProtoReflect().Descriptor() {
				t.Errorf("outcome %s: kind %s subject %s providers %v payload %s", out.Name, out.Kind, out.Subject, out.Providers, out.Payload.Descriptor().FullName())
			}
		}
	}
	outcomes, reportOutcomes := 0, 0
	for _, ty := range cat.Types() {
		if ty.Kind == events.KindOutcome {
			outcomes++
			if slices.Equal(ty.SourceEventTypes, []string{events.ReconcileReport}) {
				reportOutcomes++
			}
		}
	}
	// 3 + 1 + 2 + 3 cells in the matrix of design §2, and one outcome type
	// per provider for the reconciliation reports it applies.
	if cells != 9 || outcomes-reportOutcomes != cells || reportOutcomes != len(events.Providers) {
		t.Errorf("%d outcome types (%d of reports) for %d matrix cells, want 9 and %d", outcomes, reportOutcomes, cells, len(events.Providers))
	}
	if _, ok := cat.OutcomeType(events.ProviderGitHub, events.OktaCreateUser); ok {
		t.Error("an outcome type exists for an empty matrix cell (github × okta.create.user)")
	}
}

// The Okta part of the catalog is generated from Okta's own list: every
// non-internal row, and nothing else, so that an operator can forward any
// type Okta documents.
func TestOktaPassthroughFollowsTheCSV(t *testing.T) {
	t.Parallel()
	f, err := os.Open("okta-event-types.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	cat := events.Default()
	public, internal := 0, 0
	for _, rec := range rows[1:] {
		et := rec[col["event_type"]]
		ty, ok := cat.OktaPassthrough(et)
		switch rec[col["internal"]] {
		case "false":
			public++
			if !ok {
				t.Errorf("%s: missing from the catalog", et)
				continue
			}
			if ty.Subject != "events.okta."+et || ty.Module != rec[col["category"]] ||
				ty.Payload.Descriptor() != (&eventsv1.OktaLogEvent{}).ProtoReflect().Descriptor() {
				t.Errorf("%s: subject %s module %s payload %s", et, ty.Subject, ty.Module, ty.Payload.Descriptor().FullName())
			}
			if wantTag := rec[col["event_hook_eligible"]] == "true"; ty.HasTag(events.TagOktaEventHookEligible) != wantTag {
				t.Errorf("%s: tag %s = %v, CSV says %v", et, events.TagOktaEventHookEligible, !wantTag, wantTag)
			}
		case "true":
			internal++
			if ok {
				t.Errorf("%s: internal type is in the catalog", et)
			}
		default:
			t.Errorf("%s: internal column %q is neither true nor false", et, rec[col["internal"]])
		}
	}
	generated := 0
	for _, ty := range cat.Types() {
		// okta.verify.email is hand-kept (the inline hook), not from the CSV.
		if ty.Source == events.SourceOkta && ty.Kind == events.KindPassthrough && ty.Name != events.OktaVerifyEmail {
			generated++
		}
	}
	if generated != public {
		t.Errorf("catalog has %d Okta passthrough types, the CSV %d non-internal rows", generated, public)
	}
	// okta.verify.email has the okta. prefix and is a passthrough type, but
	// it is the inline hook's: no System Log event type may raise it.
	if ty, ok := cat.OktaPassthrough("verify.email"); ok {
		t.Errorf("OktaPassthrough(verify.email) = %s", ty.Name)
	}
	if public == 0 || internal == 0 {
		t.Errorf("CSV has %d public and %d internal rows; the test would prove nothing", public, internal)
	}
}

func TestFields(t *testing.T) {
	t.Parallel()
	ty, ok := events.Default().Lookup(events.OktaCreateUser)
	if !ok {
		t.Fatal("okta.create.user missing")
	}
	got := map[string]string{}
	for _, f := range ty.Fields() {
		got[f.Name] = f.Type
	}
	for name, typ := range map[string]string{
		"uuid": "String", "eventType": "String", "published": "OffsetDateTime",
		"user": "OktaUser", "origin": "Origin",
	} {
		if got[name] != typ {
			t.Errorf("field %s has type %q, want %q (all: %v)", name, got[name], typ, got)
		}
	}

	// Lists, enums and numbers, from the other payloads.
	tests := []struct {
		typeName, field, want string
	}{
		{"okta.user.session.start", "targets", "List<OktaTarget>"},
		{events.ConsoleUpdateUserPermission, "change", "PermissionChange"},
		{events.ConsoleUpdateUserPermission, "eventTimestampMs", "Long"},
		{"outcome.gitlab.okta.delete.user", "dryRun", "Boolean"},
	}
	for _, tt := range tests {
		ty, ok := events.Default().Lookup(tt.typeName)
		if !ok {
			t.Errorf("%s missing", tt.typeName)
			continue
		}
		found := false
		for _, f := range ty.Fields() {
			if f.Name == tt.field {
				found = true
				if f.Type != tt.want {
					t.Errorf("%s.%s: %q, want %q", tt.typeName, tt.field, f.Type, tt.want)
				}
			}
		}
		if !found {
			t.Errorf("%s has no field %s", tt.typeName, tt.field)
		}
	}
}

func TestLookupAction(t *testing.T) {
	t.Parallel()
	a, ok := events.LookupAction(events.ProviderGitLab, "user.block")
	if !ok || a.TypeName != "gitlab.UserBlockedEvent" {
		t.Errorf("LookupAction(gitlab, user.block) = %+v, %v", a, ok)
	}
	if _, ok := events.LookupAction(events.ProviderGitHub, "user.block"); ok {
		t.Error("an action was found under the wrong provider")
	}
	seen := map[[2]string]bool{}
	for _, a := range events.Actions {
		k := [2]string{a.Provider, a.Name}
		if seen[k] {
			t.Errorf("duplicate action %v", k)
		}
		seen[k] = true
	}
}

// The reconciliation report is published by every sync consumer, acted on
// by none (no consumer filters its subject), and each provider's outcomes of
// applying it have their own type, so that outcome.Publisher takes the
// report as the outcomes' cause.
func TestReconcileReportType(t *testing.T) {
	t.Parallel()
	cat := events.Default()
	ty, ok := cat.Lookup(events.ReconcileReport)
	if !ok {
		t.Fatal("no idsync.reconcile.report type")
	}
	if ty.Kind != events.KindReport || ty.Subject != "events.idsync.reconcile.report" || ty.TypeName != "idsync.ReconcileReportEvent" ||
		ty.Payload.Descriptor() != (&eventsv1.ReconcileReport{}).ProtoReflect().Descriptor() {
		t.Errorf("report type: kind %s subject %s type name %s payload %s", ty.Kind, ty.Subject, ty.TypeName, ty.Payload.Descriptor().FullName())
	}
	if !slices.Equal(ty.Providers, events.Providers) || !ty.HasTag(events.TagReport) || !ty.HasTag(events.TagPersonalData) {
		t.Errorf("report type: providers %v tags %v", ty.Providers, ty.Tags)
	}
	ns := events.Namespace("idsync")
	for _, p := range events.Providers {
		for _, st := range cat.SyncTypesFor(p) {
			if st == ty {
				t.Errorf("%s-sync acts on the report", p)
			}
		}
		out, ok := cat.OutcomeType(p, events.ReconcileReport)
		if !ok {
			t.Errorf("no outcome type of %s for the report", p)
			continue
		}
		if out.Name != "outcome."+p+".idsync.reconcile.report" || ns.Subject(out) != "idsync.outcomes."+p+".idsync.reconcile.report" ||
			out.Kind != events.KindOutcome || !slices.Equal(out.Providers, []string{p}) {
			t.Errorf("report outcome of %s: %s on %s (%s, %v)", p, out.Name, ns.Subject(out), out.Kind, out.Providers)
		}
	}
}
