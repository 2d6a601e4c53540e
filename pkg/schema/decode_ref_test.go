package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/idsync/idsync/pkg/apierror"
	"github.com/idsync/idsync/pkg/internal/fuzzing"
	"github.com/idsync/idsync/pkg/testdata"
)

// decodeReference is Decode as it was before the single-pass decoder: a
// jsontext validity pass, encoding/json with UseNumber, then a walk for
// names equal but for case. Decode must accept exactly what it accepts and
// build the same document.
func decodeReference(body []byte) (map[string]any, error) {
	if !jsontext.Value(body).IsValid() {
		return nil, apierror.New(apierror.InvalidJSON, describeInvalid(body))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, apierror.Wrap(apierror.InvalidJSON, "the body is not valid JSON", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, apierror.New(apierror.InvalidJSON, "the body must be a JSON object")
	}
	if path, ok := caseCollisionReference(obj, ""); ok {
		return nil, apierror.New(apierror.InvalidJSON, "member names that differ only in case at "+path)
	}
	return obj, nil
}

func caseCollisionReference(v any, path string) (string, bool) {
	switch t := v.(type) {
	case map[string]any:
		seen := make(map[string]bool, len(t))
		for k, child := range t {
			low := foldKey(k)
			if seen[low] {
				return path + "/" + k, true
			}
			seen[low] = true
			if p, ok := caseCollisionReference(child, path+"/"+k); ok {
				return p, true
			}
		}
	case []any:
		for i, child := range t {
			if p, ok := caseCollisionReference(child, fmt.Sprintf("%s/%d", path, i)); ok {
				return p, true
			}
		}
	}
	return "", false
}

// sameDecode fails t unless Decode and decodeReference agree on body: both
// accept it with equal documents, or both refuse it with invalid_json and,
// unless the refusal is for names equal but for case (whose path names one
// of the colliding members, in map order before), the same message.
func sameDecode(t *testing.T, body []byte) {
	t.Helper()
	got, err := Decode(body)
	want, wantErr := decodeReference(body)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("Decode(%q) error %v, reference %v", body, err, wantErr)
	}
	if err != nil {
		var ae, we *apierror.Error
		if !errors.As(err, &ae) || !errors.As(wantErr, &we) || ae.Code != we.Code {
			t.Fatalf("Decode(%q) = %v, reference %v", body, err, wantErr)
		}
		const collision = "member names that differ only in case at "
		if ae.Message != we.Message && !(bytes.HasPrefix([]byte(ae.Message), []byte(collision)) && bytes.HasPrefix([]byte(we.Message), []byte(collision))) {
			t.Fatalf("Decode(%q) message %q, reference %q", body, ae.Message, we.Message)
		}
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Decode(%q):\n%#v\nreference:\n%#v", body, got, want)
	}
}

func TestDecodeMatchesReference(t *testing.T) {
	t.Parallel()
	for _, body := range decodeSeeds() {
		sameDecode(t, body)
	}
}

// FuzzDecodeMatchesReference: the single-pass decoder accepts, refuses and
// builds exactly what the former three passes did.
func FuzzDecodeMatchesReference(f *testing.F) {
	fuzzing.LimitMinimize(2 * time.Second)
	for _, body := range decodeSeeds() {
		f.Add(body)
	}
	f.Fuzz(sameDecode)
}

func decodeSeeds() [][]byte {
	var out [][]byte
	for _, name := range testdata.ConsoleEventNames() {
		out = append(out, testdata.Console(name))
	}
	for _, name := range []string{"event-hook.okta-docs-user-session-start", "event-hook.user-lifecycle-deactivate",
		"event-hook.group-user-membership-add", "registration-hook-ssr-request", "registration-hook-progressive-request"} {
		out = append(out, testdata.Okta(name))
	}
	many := []byte(`{`)
	for i := range 40 {
		many = fmt.Appendf(many, `"k%d":%d,`, i, i)
	}
	for _, s := range []string{
		``, ` `, `{}`, `[]`, `[1]`, `"x"`, `null`, `true`, `1`, `{} {}`, `{}x`, `{"a":`, `{"a":1,"a":2}`,
		`{"a":1,"\u0061":2}`, "{\"a\":\"\xff\"}", `{"a":"\ud800"}`, `{"a":1,}`, `{"a":[]}`, `{"a":[[],{}]}`,
		`{"a":1.0,"b":9223372036854775808,"c":-0,"d":1e400,"e":-1.5E-7}`, `{"a":"\u00e9\n\"\\"}`,
		`{"companyId":"c1","companyid":"c2"}`, `{"payload":{"resource":{"companyId":"a","COMPANYID":"b"}}}`,
		`{"userProfile":{},"uſerProfile":{}}`, "{\"kind\":1,\"\u212aind\":2}", `{"list":[{"a":1,"A":2}]}`,
		`{"a":{"b":1},"b":{"a":1}}`, `{"a":[{"x":null},{"y":true,"z":false}]}`,
		string(many) + `"K39":0}`, string(many) + `"k40":0}`, string(many) + `"ſ":0,"S":1}`,
	} {
		out = append(out, []byte(s))
	}
	return out
}

// BenchmarkDecode compares Decode with the former three passes on Okta's
// sample delivery.
func BenchmarkDecode(b *testing.B) {
	body := testdata.Okta("event-hook.user-lifecycle-deactivate")
	for _, bm := range []struct {
		name string
		f    func([]byte) (map[string]any, error)
	}{{"single-pass", Decode}, {"reference", decodeReference}} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := bm.f(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
