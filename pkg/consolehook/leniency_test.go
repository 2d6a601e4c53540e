package consolehook_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/idsync/idsync/pkg/schema"
	"github.com/idsync/idsync/pkg/testdata"
)

// compileSeedSchema compiles a schema transcribed from seed 001 exactly as
// published (testdata/seed-schemas; only trailing commas removed so that it
// is JSON at all).
func compileSeedSchema(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "seed-schemas", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	url := "https://seed.invalid/" + name + ".json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// violations lists the leaf failures of a validation error as
// "<instance location>: <keyword>", e.g. "/payload: additionalProperties".
func violations(err error) []string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []string{"not a validation error: " + err.Error()}
	}
	var out []string
	var walk func(*jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			kw := e.ErrorKind.KeywordPath()
			out = append(out, "/"+strings.Join(e.InstanceLocation, "/")+": "+strings.Join(kw, "/"))
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	slices.Sort(out)
	return out
}

// The seed's published schemas reject the seed's own examples; idsync's
// schemas (proto/schemas/console) are lenient exactly there. This test keeps
// both halves of that claim true: if the Console fixes its schemas, or ours
// drift, it says so.
func TestSeedSchemasRejectTheirOwnExamplesAndOursAccept(t *testing.T) {
	t.Parallel()
	lenient, err := schema.Load("console")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		example string // testdata.Console name
		seed    string // testdata/seed-schemas name
		ours    string // schema.Set name
		// The offending keywords, as "<instance location>: <keyword>".
		want []string
		// mentions are words the validator's message must contain.
		mentions []string
	}{
		{
			// The example is spelled user_added, but the schema wants
			// company_user_added; it requires companyId in the payload (the
			// example puts it in resource) and resource at the top level
			// (where additionalProperties forbids it).
			example: "user_added", seed: "company_user_added", ours: "console/company_user_added",
			want:     []string{"/: required", "/eventName: const", "/payload: required"},
			mentions: []string{"'resource'", "'companyId'", "company_user_added"},
		},
		{
			// The payload's companyId is required but not among the
			// properties, and additionalProperties is false.
			example: "company_user_edited", seed: "company_user_edited", ours: "console/company_user_edited",
			want:     []string{"/payload: additionalProperties"},
			mentions: []string{"'companyId'"},
		},
		{
			// Same contradiction; roleId is absent but not required here.
			example: "company_user_removed", seed: "company_user_removed", ours: "console/company_user_removed",
			want:     []string{"/payload: additionalProperties"},
			mentions: []string{"'companyId'"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.example, func(t *testing.T) {
			t.Parallel()
			doc, err := schema.Decode(testdata.Console(tt.example))
			if err != nil {
				t.Fatal(err)
			}
			err = compileSeedSchema(t, tt.seed).Validate(doc)
			if err == nil {
				t.Fatalf("the seed schema accepts its example: the leniency in proto/schemas/%s.json may no longer be needed", tt.ours)
			}
			if got := violations(err); !slices.Equal(got, tt.want) {
				t.Errorf("seed schema violations = %q, want %q\n%v", got, tt.want, err)
			}
			for _, m := range tt.mentions {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("seed schema error does not mention %s:\n%v", m, err)
				}
			}
			if err := lenient.Validate(tt.ours, doc); err != nil {
				t.Errorf("lenient schema rejects the seed's example: %v", err)
			}
		})
	}
}
