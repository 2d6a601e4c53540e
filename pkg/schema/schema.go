// Package schema decodes webhook bodies strictly and validates them against
// the JSON Schemas in proto/schemas. Strict means: exactly one JSON object,
// valid UTF-8, no duplicate member names (I-JSON, RFC 7493), so that the
// signature, the validation and every later reader of the raw body agree on
// what it says.
package schema

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/idsync/idsync/pkg/apierror"
	"github.com/idsync/idsync/proto/schemas"
)

// Set is a set of compiled schemas, by file name without extension
// (e.g. "console/company_user_added").
type Set struct {
	byName map[string]*jsonschema.Schema
}

// Load compiles every schema under dir (e.g. "console") of proto/schemas.
func Load(dirs ...string) (*Set, error) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	c.DefaultDraft(jsonschema.Draft2020)
	var names []string
	for _, dir := range dirs {
		entries, err := fs.ReadDir(schemas.FS, dir)
		if err != nil {
			return nil, fmt.Errorf("schema.Load %s: %w", dir, err)
		}
		for _, e := range entries {
			if path.Ext(e.Name()) != ".json" {
				continue
			}
			file := dir + "/" + e.Name()
			raw, err := fs.ReadFile(schemas.FS, file)
			if err != nil {
				return nil, err
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
			if err != nil {
				return nil, fmt.Errorf("schema.Load %s: %w", file, err)
			}
			if err := c.AddResource(schemas.BaseURL+file, doc); err != nil {
				return nil, fmt.Errorf("schema.Load %s: %w", file, err)
			}
			names = append(names, strings.TrimSuffix(file, ".json"))
		}
	}
	s := &Set{byName: map[string]*jsonschema.Schema{}}
	for _, n := range names {
		sch, err := c.Compile(schemas.BaseURL + n + ".json")
		if err != nil {
			return nil, fmt.Errorf("schema.Load %s: %w", n, err)
		}
		s.byName[n] = sch
	}
	return s, nil
}

// Has reports whether the set has a schema of that name.
func (s *Set) Has(name string) bool { _, ok := s.byName[name]; return ok }

// Validate checks doc (decoded by Decode) against the named schema. A
// violation is an *apierror.Error with code schema_violation naming the first
// offending location.
func (s *Set) Validate(name string, doc any) error {
	sch, ok := s.byName[name]
	if !ok {
		return fmt.Errorf("schema.Validate: no schema %q", name)
	}
	err := sch.Validate(doc)
	if err == nil {
		return nil
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return apierror.Wrap(apierror.SchemaViolation, "the body does not match the schema", err)
	}
	loc, msg := firstLeaf(ve.BasicOutput())
	if loc == "" {
		loc = "/"
	}
	return apierror.New(apierror.SchemaViolation, fmt.Sprintf("%s: %s", loc, msg))
}

// firstLeaf finds the most specific error of a basic output.
func firstLeaf(u *jsonschema.OutputUnit) (string, string) {
	best, bestDepth := "", -1
	var msg string
	for _, e := range u.Errors {
		if e.Error == nil {
			continue
		}
		d := strings.Count(e.InstanceLocation, "/")
		if d > bestDepth {
			best, bestDepth, msg = e.InstanceLocation, d, e.Error.String()
		}
	}
	if bestDepth < 0 && u.Error != nil {
		return u.InstanceLocation, u.Error.String()
	}
	return best, msg
}

// describeInvalid explains why jsontext refused body, without echoing it.
func describeInvalid(body []byte) string {
	if len(bytes.TrimSpace(body)) == 0 {
		return "the body is empty"
	}
	dec := jsontext.NewDecoder(bytes.NewReader(body))
	if _, err := dec.ReadValue(); err != nil {
		var se *jsontext.SyntacticError
		if ok := asSyntactic(err, &se); ok {
			return fmt.Sprintf("the body is not valid JSON at byte %d: %s", se.ByteOffset, syntaxReason(se))
		}
		return "the body is not valid JSON"
	}
	return "the body must hold exactly one JSON value"
}
