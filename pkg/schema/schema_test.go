package schema_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/idsync/idsync/pkg/apierror"
	"github.com/idsync/idsync/pkg/schema"
	"github.com/idsync/idsync/pkg/testdata"
)

func TestDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		body    string
		wantErr string // part of the message; "" = success
	}{
		{"object", `{"a":1}`, ""},
		{"surrounding blanks", " \n{\"a\":1}\n ", ""},
		{"empty", ``, "the body is empty"},
		{"blank", "  \n", "the body is empty"},
		{"array", `[1]`, "must be a JSON object"},
		{"string", `"x"`, "must be a JSON object"},
		{"null", `null`, "must be a JSON object"},
		{"two objects", `{} {}`, "exactly one JSON value"},
		{"trailing garbage", `{}x`, "exactly one JSON value"},
		{"truncated", `{"a":`, "unexpected end of input"},
		// I-JSON: a duplicate name is ambiguous, whatever the spelling.
		{"duplicate name", `{"a":1,"a":2}`, "duplicate object member name"},
		{"duplicate name, escaped", `{"a":1,"\u0061":2}`, "duplicate object member name"},
		{"invalid UTF-8", "{\"a\":\"\xff\"}", "syntax error"},
		{"lone surrogate", `{"a":"\ud800"}`, "not valid JSON"},
		{"trailing comma", `{"a":1,}`, "not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc, err := schema.Decode([]byte(tt.body))
			if tt.wantErr == "" {
				if err != nil || doc == nil {
					t.Fatalf("Decode = %v, %v", doc, err)
				}
				return
			}
			var ae *apierror.Error
			if !errors.As(err, &ae) || ae.Code != apierror.InvalidJSON {
				t.Fatalf("err = %v, want invalid_json", err)
			}
			if !strings.Contains(ae.Message, tt.wantErr) {
				t.Errorf("message %q, want it to contain %q", ae.Message, tt.wantErr)
			}
		})
	}
}

// Numbers stay json.Number so that the validator and the dedupe hash see
// exactly what was sent (1.0 is not 1, and 2^63 does not lose precision).
func TestDecodeKeepsNumbers(t *testing.T) {
	t.Parallel()
	doc, err := schema.Decode([]byte(`{"a":1.0,"b":9223372036854775808,"c":-0}`))
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"a": "1.0", "b": "9223372036854775808", "c": "-0"} {
		if n, ok := doc[k].(json.Number); !ok || n.String() != want {
			t.Errorf("%s = %#v, want json.Number(%s)", k, doc[k], want)
		}
	}
}

// Error messages go back to the sender and into logs: never echo the body.
func TestDecodeDoesNotEchoTheBody(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`{"email":"alice@example.com",}`, `{"email":"alice@example.com","email":"x"}`, `{"email":"alice@example.com"} [`} {
		_, err := schema.Decode([]byte(body))
		if err == nil || strings.Contains(err.Error(), "alice") {
			t.Errorf("Decode(%s) = %v", body, err)
		}
	}
}

func TestLoadAndValidate(t *testing.T) {
	t.Parallel()
	s, err := schema.Load("console", "okta")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"console/company_user_added", "console/tag_created", "okta/event-hook", "okta/registration-hook"} {
		if !s.Has(n) {
			t.Errorf("no schema %s", n)
		}
	}
	if _, err := schema.Load("no-such-dir"); err == nil {
		t.Error("Load of a missing directory succeeded")
	}

	valid, _ := schema.Decode(testdata.Console("tag_created"))
	if err := s.Validate("console/tag_created", valid); err != nil {
		t.Errorf("fixture rejected: %v", err)
	}
	tests := []struct {
		name     string
		schema   string
		body     string
		location string // the message starts with the offending location
	}{
		{"wrong type, nested", "console/tag_created", `{"eventName":"tag_created","eventTimestamp":1,"payload":{"tagName":1}}`, "/payload/tagName"},
		{"missing member", "console/tag_created", `{"eventName":"tag_created","payload":{}}`, "/"},
		{"wrong eventName", "console/tag_created", `{"eventName":"tag_deleted","eventTimestamp":1,"payload":{}}`, "/eventName"},
		{"bad date-time", "okta/event-hook", `{"data":{"events":[{"uuid":"u","eventType":"x","published":"yesterday"}]}}`, "/data/events/0/published"},
		{"bad eventType pattern", "okta/event-hook", `{"data":{"events":[{"uuid":"u","eventType":"a b","published":"2020-01-01T00:00:00Z"}]}}`, "/data/events/0/eventType"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc, err := schema.Decode([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			err = s.Validate(tt.schema, doc)
			var ae *apierror.Error
			if !errors.As(err, &ae) || ae.Code != apierror.SchemaViolation {
				t.Fatalf("err = %v, want schema_violation", err)
			}
			if !strings.HasPrefix(ae.Message, tt.location+":") {
				t.Errorf("message %q, want it to start with %q", ae.Message, tt.location+":")
			}
		})
	}
	// Asking for a schema that does not exist is a programming error, not
	// the sender's: it must not come back as a schema_violation.
	err = s.Validate("console/nope", valid)
	var ae *apierror.Error
	if err == nil || errors.As(err, &ae) {
		t.Errorf("Validate(unknown schema) = %v", err)
	}
}

func TestDecodeRefusesNamesEqualButForCase(t *testing.T) {
	for _, body := range []string{
		`{"companyId":"c1","companyid":"c2"}`,
		`{"payload":{"resource":{"companyId":"a","COMPANYID":"b"}}}`,
		`{"userProfile":{"email":"a@example.com"},"uſerProfile":{"email":"b@example.org"}}`,
		"{\"kind\":1,\"\u212aind\":2}",
		`{"list":[{"a":1,"A":2}]}`,
	} {
		if _, err := schema.Decode([]byte(body)); err == nil {
			t.Errorf("accepted %s", body)
		}
	}
	if _, err := schema.Decode([]byte(`{"a":{"b":1},"b":{"a":1}}`)); err != nil {
		t.Errorf("distinct names refused: %v", err)
	}
}
