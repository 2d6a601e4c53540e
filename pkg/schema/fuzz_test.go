package schema_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/idsync/idsync/pkg/apierror"
	"github.com/idsync/idsync/pkg/internal/fuzzing"
	"github.com/idsync/idsync/pkg/schema"
	"github.com/idsync/idsync/pkg/testdata"
)

// FuzzDecode: Decode is the first thing every webhook body meets. It must
// never panic, must refuse with invalid_json, and what it accepts must mean
// the same after a re-encoding (the Console dedupe id hashes json.Marshal of
// it), so that every later reader agrees with the validator.
func FuzzDecode(f *testing.F) {
	fuzzing.LimitMinimize(2 * time.Second)
	for _, name := range testdata.ConsoleEventNames() {
		f.Add(testdata.Console(name))
	}
	for _, name := range []string{"event-hook.okta-docs-user-session-start", "registration-hook-ssr-request"} {
		f.Add(testdata.Okta(name))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		doc, err := schema.Decode(body)
		if err != nil {
			var ae *apierror.Error
			if !errors.As(err, &ae) || ae.Code != apierror.InvalidJSON {
				t.Fatalf("error %v (%T), want invalid_json", err, err)
			}
			return
		}
		if doc == nil {
			t.Fatal("success without an object")
		}
		again, err := json.Marshal(doc)
		if err != nil {
			t.Fatalf("json.Marshal: %v", err)
		}
		doc2, err := schema.Decode(again)
		if err != nil {
			t.Fatalf("re-encoded %q does not decode: %v", again, err)
		}
		if !reflect.DeepEqual(doc, doc2) {
			t.Fatalf("round trip changed the document:\n%#v\n%#v", doc, doc2)
		}
	})
}
