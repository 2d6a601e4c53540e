package events

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"

	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

// oktaCSV is Okta's System Log event-type catalog (release 2026.08.1), one row
// per type with its category, release, tags and event-hook eligibility.
//
//go:embed okta-event-types.csv
var oktaCSV []byte

// oktaTypes turns every non-internal Okta event type into a passthrough type
// okta.<eventType> on subject events.okta.<eventType>.
func oktaTypes() ([]*Type, error) {
	r := csv.NewReader(bytes.NewReader(oktaCSV))
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("events: okta catalog header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	for _, want := range []string{"event_type", "category", "since_release", "tags", "event_hook_eligible", "oie_only", "change_details", "beta", "internal"} {
		if _, ok := col[want]; !ok {
			return nil, fmt.Errorf("events: okta catalog lacks column %q", want)
		}
	}
	var out []*Type
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("events: okta catalog: %w", err)
		}
		get := func(name string) string { return rec[col[name]] }
		if get("internal") == "true" {
			continue
		}
		et := get("event_type")
		var tags []string
		for t := range strings.SplitSeq(get("tags"), ";") {
			switch t = strings.TrimSpace(t); t {
			case "":
			case "event-hook-eligible":
				tags = append(tags, TagOktaEventHookEligible)
			default:
				tags = append(tags, t)
			}
		}
		if get("oie_only") == "true" && !slices.Contains(tags, "oie-only") {
			tags = append(tags, "oie-only")
		}
		if get("beta") == "true" {
			tags = append(tags, "beta")
		}
		if get("change_details") != "" {
			tags = append(tags, "change-details")
		}
		out = append(out, &Type{
			Name: "okta." + et, Kind: KindPassthrough,
			Subject:          "events.okta." + et,
			Source:           SourceOkta,
			Module:           get("category"),
			SourceEventTypes: []string{et},
			DisplayName:      "Okta " + et,
			TypeName:         "okta." + camel(et) + "Event",
			Description:      "Okta System Log event " + et + ", forwarded as received when the operator enables it (IDSYNC_OKTA_FORWARD_EVENT_TYPES).",
			Payload:          payloadOf(&eventsv1.OktaLogEvent{}),
			Tags:             tags,
			Since:            "Okta " + get("since_release"),
		})
	}
	return out, nil
}

// camel turns user.session.start into UserSessionStart.
func camel(s string) string {
	var b strings.Builder
	upper := true
	for _, r := range s {
		if r == '.' || r == '_' || r == '-' {
			upper = true
			continue
		}
		if upper {
			r = unicode.ToUpper(r)
			upper = false
		}
		b.WriteRune(r)
	}
	return b.String()
}
