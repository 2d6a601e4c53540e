package oktahook_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/apierror"
	"github.com/idsync/idsync/pkg/events"
	"github.com/idsync/idsync/pkg/oktahook"
	"github.com/idsync/idsync/pkg/testdata"
	eventsv1 "github.com/idsync/idsync/proto/gen/idsync/events/v1"
)

func TestParseRegistrationFixtures(t *testing.T) {
	t.Parallel()
	p := newParser(t, 1<<20)
	tests := []struct {
		fixture string
		want    oktahook.Registration
	}{
		{"registration-hook-ssr-request", oktahook.Registration{
			EventID: "04Dmt8BcT_aEgM", RequestType: oktahook.RequestSelfService,
			Email: "rosario.jones@example.com", Location: "data.userProfile.email", Login: "rosario.jones@example.com",
			ClientIP: "127.0.0.1",
		}},
		// The update carries no email: there is nothing to check.
		{"registration-hook-progressive-request", oktahook.Registration{
			EventID: "vzYp_zMwQu2htIWRbNJdfw", RequestType: oktahook.RequestProgressive,
			Login: "rosario.jones@example.com", UserID: "00u48gwcu01WxvNo", ClientIP: "127.0.0.1",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			t.Parallel()
			body := testdata.Okta(tt.fixture)
			r, err := p.ParseRegistration(body)
			if err != nil {
				t.Fatal(err)
			}
			if string(r.Raw) != string(body) || r.RawTruncated {
				t.Errorf("raw not kept whole")
			}
			r.Raw = nil
			if !reflect.DeepEqual(*r, tt.want) {
				t.Errorf("got  %+v\nwant %+v", *r, tt.want)
			}
		})
	}
}

func TestParseRegistrationCases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		body      string
		code      apierror.Code // "" = success
		wantEmail string
		wantLoc   string
	}{
		{"login used when no email", `{"eventId":"e","data":{"userProfile":{"login":"a@example.com"}}}`, "", "a@example.com", "data.userProfile.login"},
		{"Classic Engine: no requestType", `{"eventId":"e","data":{"userProfile":{"email":"a@example.com"}}}`, "", "a@example.com", "data.userProfile.email"},
		{"progressive email change", `{"eventId":"e","requestType":"progressive.profile","data":{"userProfileUpdate":{"email":"b@example.org"}}}`, "", "b@example.org", "data.userProfileUpdate.email"},
		{"null email", `{"eventId":"e","data":{"userProfile":{"email":null,"login":null}}}`, "", "", "data.userProfile.login"},
		{"self-service without profile", `{"eventId":"e","requestType":"self.service.registration","data":{}}`, apierror.SchemaViolation, "", ""},
		{"no eventId", `{"data":{"userProfile":{"email":"a@example.com"}}}`, apierror.SchemaViolation, "", ""},
		{"unknown requestType", `{"eventId":"e","requestType":"x","data":{"userProfile":{}}}`, apierror.SchemaViolation, "", ""},
		{"email not a string", `{"eventId":"e","data":{"userProfile":{"email":1}}}`, apierror.SchemaViolation, "", ""},
		{"not JSON", `{"eventId":`, apierror.InvalidJSON, "", ""},
	}
	p := newParser(t, 1<<20)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := p.ParseRegistration([]byte(tt.body))
			if tt.code != "" {
				var ae *apierror.Error
				if !errors.As(err, &ae) || ae.Code != tt.code {
					t.Fatalf("err = %v, want %s", err, tt.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Email != tt.wantEmail || r.Location != tt.wantLoc {
				t.Errorf("email %q at %q, want %q at %q", r.Email, r.Location, tt.wantEmail, tt.wantLoc)
			}
		})
	}
}

func TestDomains(t *testing.T) {
	t.Parallel()
	d := oktahook.Domains{"example.com", "*.example.org"}
	tests := []struct {
		domain string
		want   bool
	}{
		{"example.com", true},
		{"sub.example.com", false}, // exact entries are exact
		{"a.example.org", true},
		{"a.b.example.org", true},
		{"example.org", false}, // *.x is subdomains only
		{"badexample.org", false},
		{"example.org.evil.com", false},
		{"example.com.", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := d.Allows(tt.domain); got != tt.want {
			t.Errorf("Allows(%q) = %v, want %v", tt.domain, got, tt.want)
		}
	}
	if (oktahook.Domains{}).Allows("example.com") {
		t.Error("an empty list allows a domain")
	}

	for _, tt := range []struct {
		d  oktahook.Domains
		ok bool
	}{
		{oktahook.Domains{"example.com", "*.example.org", "mia-platform.eu"}, true},
		{nil, true},
		{oktahook.Domains{""}, false},
		{oktahook.Domains{"*."}, false},
		{oktahook.Domains{"Example.com"}, false},
		{oktahook.Domains{"user@example.com"}, false},
		{oktahook.Domains{"localhost"}, false},
		{oktahook.Domains{"*.*.example.com"}, false},
		{oktahook.Domains{"example.com/x"}, false},
		{oktahook.Domains{"exa mple.com"}, false},
		{oktahook.Domains{"example.com", "BAD"}, false},
	} {
		err := tt.d.Validate()
		if (err == nil) != tt.ok {
			t.Errorf("Validate(%q) = %v, want ok=%v", tt.d, err, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), tt.d[len(tt.d)-1]) {
			t.Errorf("Validate(%q) = %v, want it to name the bad entry", tt.d, err)
		}
	}
}

func TestDecide(t *testing.T) {
	t.Parallel()
	allowed := oktahook.Domains{"example.com", "*.example.org"}
	self := func(email string) *oktahook.Registration {
		return &oktahook.Registration{RequestType: oktahook.RequestSelfService, Email: email, Location: "data.userProfile.email"}
	}
	tests := []struct {
		name    string
		r       *oktahook.Registration
		domains oktahook.Domains
		want    oktahook.Decision
	}{
		{"allowed", self("a@example.com"), allowed, oktahook.Decision{Allowed: true, Domain: "example.com"}},
		{"case-insensitive", self("A@Example.COM"), allowed, oktahook.Decision{Allowed: true, Domain: "example.com"}},
		{"blank after the domain", self("a@example.com "), allowed, oktahook.Decision{Allowed: true, Domain: "example.com"}},
		{"wildcard", self("a@eu.example.org"), allowed, oktahook.Decision{Allowed: true, Domain: "eu.example.org"}},
		{"other domain", self("a@gmail.com"), allowed, oktahook.Decision{Domain: "gmail.com", Reason: "email domain is not allowed to register"}},
		{"subdomain of an exact entry", self("a@x.example.com"), allowed, oktahook.Decision{Domain: "x.example.com", Reason: "email domain is not allowed to register"}},
		{"wildcard parent", self("a@example.org"), allowed, oktahook.Decision{Domain: "example.org", Reason: "email domain is not allowed to register"}},
		// Fail closed: no configured domain allows nobody.
		{"no domains configured", self("a@example.com"), nil, oktahook.Decision{Domain: "example.com", Reason: "email domain is not allowed to register"}},
		{"no @", self("example.com"), allowed, oktahook.Decision{Reason: "not a valid email address"}},
		{"nothing before @", self("@example.com"), allowed, oktahook.Decision{Reason: "not a valid email address"}},
		{"nothing after @", self("a@"), allowed, oktahook.Decision{Reason: "not a valid email address"}},
		{"no email in a registration", self(""), allowed, oktahook.Decision{Reason: "no email address in the registration"}},
		{"Classic Engine counts as registration", &oktahook.Registration{}, allowed, oktahook.Decision{Reason: "no email address in the registration"}},
		{"profile update without email", &oktahook.Registration{RequestType: oktahook.RequestProgressive}, nil,
			oktahook.Decision{Allowed: true, Reason: "the profile update does not change the email"}},
		{"profile update to a denied email", &oktahook.Registration{RequestType: oktahook.RequestProgressive, Email: "a@gmail.com"}, allowed,
			oktahook.Decision{Domain: "gmail.com", Reason: "email domain is not allowed to register"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := oktahook.Decide(tt.r, tt.domains); got != tt.want {
				t.Errorf("Decide = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDecisionResponse(t *testing.T) {
	t.Parallel()
	type cause struct {
		ErrorSummary, Reason, LocationType, Location, Domain string
	}
	type response struct {
		Commands []struct {
			Type  string         `json:"type"`
			Value map[string]any `json:"value"`
		} `json:"commands"`
		Error *struct {
			ErrorSummary string  `json:"errorSummary"`
			ErrorCauses  []cause `json:"errorCauses"`
		} `json:"error"`
	}
	tests := []struct {
		name        string
		r           oktahook.Registration
		d           oktahook.Decision
		wantCommand string
		wantValue   map[string]any
		wantError   *cause
	}{
		{"allowed registration sets the login", oktahook.Registration{Email: "a@example.com", Location: "data.userProfile.email"},
			oktahook.Decision{Allowed: true, Domain: "example.com"},
			"com.okta.user.profile.update", map[string]any{"login": "a@example.com"}, nil},
		{"allowed profile update changes nothing", oktahook.Registration{RequestType: oktahook.RequestProgressive},
			oktahook.Decision{Allowed: true}, "", nil, nil},
		{"denied domain", oktahook.Registration{Email: "a@gmail.com", Location: "data.userProfileUpdate.email"},
			oktahook.Decision{Domain: "gmail.com", Reason: "x"},
			"com.okta.action.update", map[string]any{"registration": "DENY"},
			&cause{"Registration with an email address at gmail.com is not allowed.", "INVALID_EMAIL_DOMAIN", "body", "data.userProfileUpdate.email", "end-user"}},
		{"denied without email", oktahook.Registration{}, oktahook.Decision{Reason: "x"},
			"com.okta.action.update", map[string]any{"registration": "DENY"},
			&cause{"A valid email address is required to register.", "INVALID_EMAIL_DOMAIN", "body", "data.userProfile.email", "end-user"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := tt.d.Response(&tt.r)
			if err != nil {
				t.Fatal(err)
			}
			var got response
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("%s: %v", b, err)
			}
			// Okta wants a commands array even when it is empty.
			if !strings.Contains(string(b), `"commands":[`) {
				t.Errorf("no commands array: %s", b)
			}
			switch {
			case tt.wantCommand == "" && len(got.Commands) != 0:
				t.Errorf("commands = %+v, want none", got.Commands)
			case tt.wantCommand != "" && (len(got.Commands) != 1 || got.Commands[0].Type != tt.wantCommand || !reflect.DeepEqual(got.Commands[0].Value, tt.wantValue)):
				t.Errorf("commands = %+v, want %s %v", got.Commands, tt.wantCommand, tt.wantValue)
			}
			switch {
			case tt.wantError == nil && got.Error != nil:
				t.Errorf("error = %+v, want none", got.Error)
			case tt.wantError != nil && (got.Error == nil || len(got.Error.ErrorCauses) != 1 || got.Error.ErrorCauses[0] != *tt.wantError):
				t.Errorf("error = %s, want cause %+v", b, *tt.wantError)
			}
		})
	}
}

// The inline hook's decision is recorded as okta.verify.email; the record
// must be publishable for both fixtures, allowed or not.
func TestVerificationEventFromFixtures(t *testing.T) {
	t.Parallel()
	p := newParser(t, 1<<20)
	received := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tt := range []struct {
		fixture string
		domains oktahook.Domains
		allowed bool
	}{
		{"registration-hook-ssr-request", oktahook.Domains{"example.com"}, true},
		{"registration-hook-ssr-request", oktahook.Domains{"example.org"}, false},
		{"registration-hook-progressive-request", nil, true},
	} {
		r, err := p.ParseRegistration(testdata.Okta(tt.fixture))
		if err != nil {
			t.Fatal(err)
		}
		d := oktahook.Decide(r, tt.domains)
		if d.Allowed != tt.allowed {
			t.Errorf("%s with %v: allowed = %v", tt.fixture, tt.domains, d.Allowed)
		}
		ev, err := oktahook.VerificationEvent(events.Default(), r, d, oktahook.Meta{Route: "/okta/verify/email", ReceivedAt: received})
		if err != nil {
			t.Fatal(err)
		}
		pl := ev.Payload.(*eventsv1.OktaEmailVerification)
		if ev.Type.Name != events.OktaVerifyEmail || ev.ID != "okta-verify-"+r.EventID || ev.Subject != r.UserID ||
			ev.Source != "urn:okta:inline-hook" || pl.Allowed != d.Allowed || pl.Email != r.Email || pl.Origin.GetDeliveryId() != r.EventID {
			t.Errorf("%s: event %+v", tt.fixture, ev)
		}
		if _, err := events.Encode(events.DefaultNamespace, ev); err != nil {
			t.Errorf("%s: Encode: %v", tt.fixture, err)
		}
	}
}
