package consolehook

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/idsync/idsync/pkg/apierror"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/schema"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

// ChannelWebhook is the Origin channel of Console webhooks.
const ChannelWebhook = "console.webhook"

// schemaOf names the JSON Schema of each eventName (both spellings of the
// user-added event share one).
var schemaOf = map[string]string{
	"project_created":      "console/project_created",
	"service_created":      "console/service_created",
	"configuration_saved":  "console/configuration_saved",
	"tag_created":          "console/tag_created",
	"tag_deleted":          "console/tag_deleted",
	"company_user_added":   "console/company_user_added",
	"user_added":           "console/company_user_added",
	"company_user_edited":  "console/company_user_edited",
	"company_user_removed": "console/company_user_removed",
}

// EventNames lists every Console eventName idsync accepts.
func EventNames() []string {
	out := make([]string, 0, len(schemaOf))
	for n := range schemaOf {
		out = append(out, n)
	}
	return out
}

// Parser validates Console webhook bodies and maps them to events.
type Parser struct {
	cat     *events.Catalog
	schemas *schema.Set
	rawMax  int
}

// NewParser compiles the Console schemas. rawMax bounds the raw body kept in
// the event for audit.
func NewParser(cat *events.Catalog, rawMax int) (*Parser, error) {
	s, err := schema.Load("console")
	if err != nil {
		return nil, err
	}
	for name, sch := range schemaOf {
		if !s.Has(sch) {
			return nil, fmt.Errorf("consolehook: no schema for %s", name)
		}
		if _, ok := cat.ConsoleEvent(name); !ok {
			return nil, fmt.Errorf("consolehook: %s is not in the event catalog", name)
		}
	}
	return &Parser{cat: cat, schemas: s, rawMax: rawMax}, nil
}

// Meta is what the transport knows about a delivery.
type Meta struct {
	Route      string
	ReceivedAt time.Time
}

// Parse decodes body, validates it against its event's schema and maps it.
// Errors are *apierror.Error: invalid_json, schema_violation, unknown_event.
func (p *Parser) Parse(body []byte, meta Meta) (events.Event, error) {
	doc, err := schema.Decode(body)
	if err != nil {
		return events.Event{}, err
	}
	name, ok := doc["eventName"].(string)
	if !ok {
		return events.Event{}, apierror.New(apierror.SchemaViolation, "/eventName: a string is required")
	}
	schemaName, known := schemaOf[name]
	if !known {
		return events.Event{}, apierror.New(apierror.UnknownEvent, fmt.Sprintf("eventName %q is not a Console event idsync knows", truncate(name, 64)))
	}
	if err := p.schemas.Validate(schemaName, doc); err != nil {
		return events.Event{}, err
	}
	// Every Console schema requires eventTimestamp (a number) and payload (an
	// object) and allows no other top-level member, so the validated
	// document holds exactly what decoding the body again into an envelope
	// gave (the gateway's profile showed that second decoding on every
	// delivery); the payload is mapped from its canonical encoding, which
	// decodes to the same fields as its raw bytes.
	ts, ok := doc["eventTimestamp"].(json.Number)
	if !ok {
		return events.Event{}, apierror.New(apierror.SchemaViolation, "/eventTimestamp: a number is required")
	}
	tsMillis, err := millis(ts)
	if err != nil {
		return events.Event{}, err
	}
	canonical, err := json.Marshal(doc["payload"])
	if err != nil {
		return events.Event{}, apierror.Wrap(apierror.Internal, "re-encoding the payload", err)
	}
	t, _ := p.cat.ConsoleEvent(name)
	ev := events.Event{
		ID:   dedupeID(name, ts.String(), canonical),
		Type: t,
		Time: time.UnixMilli(tsMillis).UTC(),
	}
	origin := &eventsv1.Origin{
		Channel: ChannelWebhook, SourceEventType: name, Route: meta.Route,
		ReceivedAt: timestamppb.New(meta.ReceivedAt),
	}
	origin.Raw, origin.RawTruncated = bounded(body, p.rawMax)
	payload, subject, tenant, err := mapPayload(name, canonical, tsMillis, origin)
	if err != nil {
		return events.Event{}, err
	}
	ev.Payload, ev.Subject = payload, subject
	ev.Source = "urn:mia-platform:console"
	if tenant != "" {
		ev.Source += ":" + tenant
	}
	return ev, nil
}

// dedupeID identifies a Console delivery (design §3): the same event re-sent
// hashes the same, whatever the member order or spacing of its JSON.
func dedupeID(name, ts string, canonicalPayload []byte) string {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{0})
	h.Write([]byte(ts))
	h.Write([]byte{0})
	h.Write(canonicalPayload)
	return "console-" + hex.EncodeToString(h.Sum(nil)[:20])
}

// The Unix milliseconds of 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z:
// the times an event's ce-time can carry (RFC 3339 has four-digit years). A
// timestamp outside them (say, microseconds sent as milliseconds) would
// publish an event that no consumer can decode, so it is refused here.
const (
	minMillis = -62167219200000
	maxMillis = 253402300799999
)

// millis reads eventTimestamp (Unix milliseconds, possibly written as a float).
func millis(n json.Number) (int64, error) {
	i, err := strconv.ParseInt(n.String(), 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(n.String(), 64)
		// Bound f before converting it: int64 of an out-of-range float is undefined.
		if ferr != nil || math.IsNaN(f) || f < minMillis-1 || f > maxMillis+1 {
			return 0, errTimestamp()
		}
		i = int64(f)
	}
	if i < minMillis || i > maxMillis {
		return 0, errTimestamp()
	}
	return i, nil
}

func errTimestamp() error {
	return apierror.New(apierror.SchemaViolation, "/eventTimestamp: not a Unix time in milliseconds between the years 0000 and 9999")
}

func bounded(body []byte, max int) ([]byte, bool) {
	if len(body) <= max {
		return append([]byte(nil), body...), false
	}
	return append([]byte(nil), body[:max]...), true
}

// truncate cuts s to at most n bytes without splitting a UTF-8 character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// mapPayload builds the typed payload, the CloudEvents subject (the user or
// project id) and the tenant (company) of a validated Console payload.
func mapPayload(name string, raw json.RawMessage, ts int64, origin *eventsv1.Origin) (proto.Message, string, string, error) {
	bad := func(err error) (proto.Message, string, string, error) {
		return nil, "", "", apierror.Wrap(apierror.SchemaViolation, "/payload does not match the schema", err)
	}
	switch name {
	case "company_user_added", "user_added", "company_user_edited", "company_user_removed":
		var u userPayload
		if err := json.Unmarshal(raw, &u); err != nil {
			return bad(err)
		}
		company := u.Resource.CompanyID
		if company == "" {
			company = u.CompanyID
		}
		return &eventsv1.ConsoleUserPermissionChanged{
			Change: changeOf(name), ConsoleEventName: name, EventTimestampMs: ts,
			UserId: u.UserID, Email: u.Email, RoleId: u.RoleID, GroupId: u.GroupID,
			Resource: &eventsv1.ConsoleResource{CompanyId: company, ProjectId: u.Resource.ProjectID, EnvironmentId: u.Resource.EnvironmentID},
			Origin:   origin,
		}, u.UserID, company, nil
	case "project_created":
		var pc projectCreated
		if err := json.Unmarshal(raw, &pc); err != nil {
			return bad(err)
		}
		return &eventsv1.ConsoleProjectCreated{
			EventTimestampMs: ts, TenantId: pc.TenantID, ProjectId: pc.ProjectID,
			SourceTemplateId: pc.SourceTemplateID, Project: projectOf(pc.Project), Origin: origin,
		}, pc.ProjectID, pc.TenantID, nil
	case "service_created":
		var sc serviceCreated
		if err := json.Unmarshal(raw, &sc); err != nil {
			return bad(err)
		}
		return &eventsv1.ConsoleServiceCreated{
			EventTimestampMs: ts, TenantId: sc.TenantID, ProjectId: sc.ProjectID,
			RepositoryUrl: sc.RepositoryURL, ServiceName: sc.ServiceName, TemplateId: sc.TemplateID, Origin: origin,
		}, sc.ProjectID, sc.TenantID, nil
	case "configuration_saved":
		var cs configurationSaved
		if err := json.Unmarshal(raw, &cs); err != nil {
			return bad(err)
		}
		var author *eventsv1.Actor
		if cs.Author.ID != "" || cs.Author.Name != "" {
			author = &eventsv1.Actor{Id: cs.Author.ID, Type: "ConsoleUser", DisplayName: cs.Author.Name}
		}
		return &eventsv1.ConsoleConfigurationSaved{
			EventTimestampMs: ts, TenantId: cs.TenantID, ProjectId: cs.ProjectID, RevisionName: cs.RevisionName,
			SavedChangesId: cs.SavedChangesID, PreviousChangesId: cs.PreviousChangesID,
			StartRefName: cs.StartRef.Name, StartRefType: cs.StartRef.Type, Author: author, Origin: origin,
		}, cs.ProjectID, cs.TenantID, nil
	case "tag_created", "tag_deleted":
		var te tagEvent
		if err := json.Unmarshal(raw, &te); err != nil {
			return bad(err)
		}
		if name == "tag_deleted" {
			return &eventsv1.ConsoleTagDeleted{
				EventTimestampMs: ts, TenantId: te.TenantID, ProjectId: te.ProjectID, TagName: te.TagName,
				Project: projectOf(te.Project), Origin: origin,
			}, te.ProjectID, te.TenantID, nil
		}
		return &eventsv1.ConsoleTagCreated{
			EventTimestampMs: ts, TenantId: te.TenantID, ProjectId: te.ProjectID, TagName: te.TagName,
			Ref: te.Ref, Message: te.Message, ReleaseDescription: te.ReleaseDescription,
			Project: projectOf(te.Project), Origin: origin,
		}, te.ProjectID, te.TenantID, nil
	}
	return nil, "", "", apierror.New(apierror.UnknownEvent, fmt.Sprintf("eventName %q has no mapping", name))
}

func changeOf(name string) eventsv1.PermissionChange {
	switch name {
	case "company_user_edited":
		return eventsv1.PermissionChange_PERMISSION_CHANGE_EDITED
	case "company_user_removed":
		return eventsv1.PermissionChange_PERMISSION_CHANGE_REMOVED
	default:
		return eventsv1.PermissionChange_PERMISSION_CHANGE_ADDED
	}
}

func projectOf(p *project) *eventsv1.ConsoleProject {
	if p == nil {
		return nil
	}
	out := &eventsv1.ConsoleProject{
		Id: p.ID, ProjectId: p.ProjectID, TenantId: p.TenantID, Name: p.Name, Description: p.Description,
		RepositoryUrl: p.RepositoryURL, ConfigurationGitPath: p.ConfigurationGitPath, DefaultBranch: p.DefaultBranch,
	}
	for _, e := range p.Environments {
		out.Environments = append(out.Environments, &eventsv1.ConsoleEnvironment{
			EnvId: e.EnvID, Label: e.Label, EnvPrefix: e.EnvPrefix, IsProduction: e.IsProduction,
			ClusterNamespace: e.Cluster.Namespace, ClusterId: e.Cluster.ClusterID,
		})
	}
	return out
}
