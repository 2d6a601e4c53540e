package events

import (
	"slices"

	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

// ReconcileReport is the canonical name of a reconciliation report: a sync
// consumer compared what the rules and the sources of truth want with what
// its provider holds (pkg/reconcile).
const ReconcileReport = "idsync.reconcile.report"

// KindReport marks the reports sync consumers publish about the state of
// their provider. No sync consumer acts on them (they are in no consumer's
// FilterSubjects); the event log stores them.
const KindReport Kind = "report"

// TagReport tags report types.
const TagReport = "report"

// reportTypes is the hand-kept list of report types. Each provider that
// publishes one also publishes outcomes for it (outcomeTypes derives
// outcome.<provider>.<report> from Providers), so that applying a report
// is recorded like handling an event.
func reportTypes() []*Type {
	return []*Type{{
		Name: ReconcileReport, Kind: KindReport,
		Subject: "events." + ReconcileReport,
		Source:  SourceIdsync, Module: "reconcile",
		DisplayName: "Reconciliation Report", TypeName: "idsync.ReconcileReportEvent",
		Description: "A sync consumer compared the desired state (the rules over the Console's users and roles and Okta's users) " +
			"with its provider's actual state, restricted to what idsync manages: one item per difference (add, change, remove) " +
			"with the rule that wants it and, when applied, what converging it did. Published once per run, scheduled " +
			"(IDSYNC_RECONCILE_INTERVAL) or requested (idsync reconcile).",
		Payload:   payloadOf(&eventsv1.ReconcileReport{}),
		Tags:      []string{TagReport, TagPersonalData},
		Since:     "idsync " + Version,
		Providers: slices.Clone(Providers),
	}}
}
