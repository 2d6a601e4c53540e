package oktahook

import (
	"encoding/json"
	"fmt"
	"strings"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/idsync/idsync/pkg/apierror"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/schema"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

// Request types of the registration inline hook.
const (
	RequestSelfService = "self.service.registration"
	RequestProgressive = "progressive.profile"
)

// Registration is a validated registration inline hook request.
type Registration struct {
	EventID string
	// RequestType is self.service.registration, progressive.profile, or empty
	// (Classic Engine), which is treated as self-service registration.
	RequestType string
	// Email is the address to check; Location is where it was found, for
	// Okta's error cause (data.userProfile.email …). Empty when the request
	// carries no email to check (a progressive profile that does not change it).
	Email, Location string
	Login           string
	UserID          string
	ClientIP        string
	Raw             []byte
	RawTruncated    bool
}

// Progressive reports whether this is a progressive-profile update.
func (r *Registration) Progressive() bool { return r.RequestType == RequestProgressive }

type profile struct {
	Email string `json:"email"`
	Login string `json:"login"`
}

// ParseRegistration decodes and validates a registration inline hook request.
func (p *Parser) ParseRegistration(body []byte) (*Registration, error) {
	doc, err := schema.Decode(body)
	if err != nil {
		return nil, err
	}
	if err := p.schemas.Validate("okta/registration-hook", doc); err != nil {
		return nil, err
	}
	var req struct {
		EventID     string `json:"eventId"`
		RequestType string `json:"requestType"`
		Data        struct {
			UserProfile       *profile `json:"userProfile"`
			UserProfileUpdate *profile `json:"userProfileUpdate"`
			Context           struct {
				Request struct {
					IPAddress string `json:"ipAddress"`
				} `json:"request"`
				User struct {
					ID      string   `json:"id"`
					Profile *profile `json:"profile"`
				} `json:"user"`
			} `json:"context"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, apierror.Wrap(apierror.SchemaViolation, "the body does not match the schema", err)
	}
	r := &Registration{
		EventID: req.EventID, RequestType: req.RequestType,
		UserID: req.Data.Context.User.ID, ClientIP: req.Data.Context.Request.IPAddress,
	}
	r.Raw, r.RawTruncated = bounded(body, p.rawMax)
	if r.Progressive() {
		if u := req.Data.UserProfileUpdate; u != nil && u.Email != "" {
			r.Email, r.Location = u.Email, "data.userProfileUpdate.email"
		}
		if cur := req.Data.Context.User.Profile; cur != nil {
			r.Login = cur.Login
		}
		return r, nil
	}
	up := req.Data.UserProfile
	if up == nil {
		return nil, apierror.New(apierror.SchemaViolation, "/data/userProfile: required for a self-service registration")
	}
	r.Login = up.Login
	r.Email, r.Location = up.Email, "data.userProfile.email"
	if r.Email == "" {
		r.Email, r.Location = up.Login, "data.userProfile.login"
	}
	return r, nil
}

// Domains is the list of email domains allowed to register: example.com
// matches exactly, *.example.com matches any subdomain of example.com.
type Domains []string

// Validate checks each entry's shape.
func (d Domains) Validate() error {
	var bad []string
	for _, e := range d {
		host := strings.TrimPrefix(e, "*.")
		if host == "" || strings.ContainsAny(host, "@*/ ") || !strings.Contains(host, ".") || host != strings.ToLower(host) {
			bad = append(bad, e)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("not lower-case domain names (example.com or *.example.com): %s", strings.Join(bad, ", "))
	}
	return nil
}

// Allows reports whether domain (lower-case) is allowed. A wildcard entry
// matches only DNS names below it: what comes before ".example.com" must be
// one or more well-formed labels, so ".example.com", "a..example.com" or
// "evil .example.com" (which a suffix test alone would let through) are not
// subdomains.
func (d Domains) Allows(domain string) bool {
	for _, e := range d {
		if wild, ok := strings.CutPrefix(e, "*."); ok {
			if sub, ok := strings.CutSuffix(domain, "."+wild); ok && dnsLabels(sub) {
				return true
			}
		} else if domain == e {
			return true
		}
	}
	return false
}

// dnsLabels reports whether s is one or more lower-case DNS labels (1 to 63
// letters, digits and inner hyphens) joined by dots.
func dnsLabels(s string) bool {
	if s == "" {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := range len(label) {
			if c := label[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
				return false
			}
		}
	}
	return true
}

// Decision is the gateway's answer to one registration.
type Decision struct {
	Allowed bool
	Domain  string
	Reason  string
}

// Decide checks the registration's email against the allowed domains. With
// no domains configured every registration with an email is denied: the hook
// fails closed.
func Decide(r *Registration, allowed Domains) Decision {
	if r.Email == "" {
		if r.Progressive() {
			return Decision{Allowed: true, Reason: "the profile update does not change the email"}
		}
		return Decision{Reason: "no email address in the registration"}
	}
	at := strings.IndexByte(r.Email, '@')
	if at <= 0 || at == len(r.Email)-1 || strings.Count(r.Email, "@") != 1 {
		return Decision{Reason: "not a valid email address"}
	}
	domain := strings.ToLower(strings.TrimSpace(r.Email[at+1:]))
	if !allowed.Allows(domain) {
		return Decision{Domain: domain, Reason: "email domain is not allowed to register"}
	}
	return Decision{Allowed: true, Domain: domain}
}

// Okta's registration inline hook response.
type command struct {
	Type  string         `json:"type"`
	Value map[string]any `json:"value"`
}

type errorCause struct {
	ErrorSummary string `json:"errorSummary"`
	Reason       string `json:"reason"`
	LocationType string `json:"locationType"`
	Location     string `json:"location"`
	Domain       string `json:"domain"`
}

type response struct {
	Commands []command `json:"commands"`
	Error    *struct {
		ErrorSummary string       `json:"errorSummary"`
		ErrorCauses  []errorCause `json:"errorCauses"`
	} `json:"error,omitempty"`
}

// Response is the JSON Okta expects: for an allowed self-service
// registration, set the login to the email (seed 000); for an allowed profile
// update, no commands; for a denial, a DENY action and a user-facing error
// on the email field.
func (d Decision) Response(r *Registration) ([]byte, error) {
	resp := response{Commands: []command{}}
	switch {
	case d.Allowed && !r.Progressive():
		resp.Commands = append(resp.Commands, command{Type: "com.okta.user.profile.update", Value: map[string]any{"login": r.Email}})
	case !d.Allowed:
		resp.Commands = append(resp.Commands, command{Type: "com.okta.action.update", Value: map[string]any{"registration": "DENY"}})
		location := r.Location
		if location == "" {
			location = "data.userProfile.email"
		}
		resp.Error = &struct {
			ErrorSummary string       `json:"errorSummary"`
			ErrorCauses  []errorCause `json:"errorCauses"`
		}{
			ErrorSummary: "Registration is not allowed",
			ErrorCauses: []errorCause{{
				ErrorSummary: userMessage(d), Reason: "INVALID_EMAIL_DOMAIN",
				LocationType: "body", Location: location, Domain: "end-user",
			}},
		}
	}
	return json.Marshal(resp)
}

func userMessage(d Decision) string {
	if d.Domain != "" {
		return "Registration with an email address at " + d.Domain + " is not allowed."
	}
	return "A valid email address is required to register."
}

// VerificationEvent records a decision as an okta.verify.email event.
func VerificationEvent(cat *events.Catalog, r *Registration, d Decision, meta Meta) (events.Event, error) {
	t, ok := cat.Lookup(events.OktaVerifyEmail)
	if !ok {
		return events.Event{}, fmt.Errorf("oktahook: %s missing from the catalog", events.OktaVerifyEmail)
	}
	source := meta.Source
	if source == "" {
		source = "urn:okta:inline-hook"
	}
	return events.Event{
		ID: "okta-verify-" + r.EventID, Type: t, Source: source, Subject: r.UserID, Time: meta.ReceivedAt.UTC(),
		Payload: &eventsv1.OktaEmailVerification{
			HookEventId: r.EventID, RequestType: r.RequestType, Email: r.Email, Login: r.Login,
			Domain: d.Domain, Allowed: d.Allowed, Reason: d.Reason,
			Client: &eventsv1.Client{IpAddress: r.ClientIP},
			Origin: &eventsv1.Origin{
				Channel: ChannelRegistrationHook, SourceEventType: events.OktaPreRegistration, DeliveryId: r.EventID,
				Route: meta.Route, ReceivedAt: timestamppb.New(meta.ReceivedAt), Raw: r.Raw, RawTruncated: r.RawTruncated,
			},
		},
	}, nil
}
