package reconcile_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/idsync/idsync/pkg/apierror"
	"github.com/idsync/idsync/pkg/reconcile"
)

// FuzzDecodeRequest: any body either decodes to a request that encodes
// back to itself, or is refused with invalid_json or invalid_request,
// never a panic and never another kind of error.
func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{`{"apply":true,"removeUnmanaged":false}`, `{}`, ``, `{"apply":1}`, `{"x":true}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := reconcile.DecodeRequest(body)
		if err != nil {
			var ae *apierror.Error
			if !errors.As(err, &ae) || (ae.Code != apierror.InvalidJSON && ae.Code != apierror.InvalidRequest) {
				t.Fatalf("refusal %v is not invalid_json or invalid_request", err)
			}
			if req != (reconcile.Request{}) {
				t.Fatalf("refused, but returned %+v", req)
			}
			return
		}
		b, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		again, err := reconcile.DecodeRequest(b)
		if err != nil || again != req {
			t.Fatalf("%s decodes to %+v, which encodes to %s, which decodes to %+v, %v", body, req, b, again, err)
		}
	})
}

func TestDecodeRequest(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body string
		want reconcile.Request
		code apierror.Code
	}{
		{``, reconcile.Request{}, ""},
		{`{}`, reconcile.Request{}, ""},
		{`{"apply":true}`, reconcile.Request{Apply: true}, ""},
		{` {"removeUnmanaged":true,"apply":true} `, reconcile.Request{Apply: true, RemoveUnmanaged: true}, ""},
		{`{"apply":true,"dryRun":true}`, reconcile.Request{}, apierror.InvalidRequest},
		{`{"apply":"true"}`, reconcile.Request{}, apierror.InvalidRequest},
		{`{"apply":null}`, reconcile.Request{}, apierror.InvalidRequest},
		{`{"Apply":true}`, reconcile.Request{}, apierror.InvalidRequest},
		{`{"apply":true,"Apply":false}`, reconcile.Request{}, apierror.InvalidJSON},
		{`{"apply":true,"apply":false}`, reconcile.Request{}, apierror.InvalidJSON},
		{`{"apply":true}{}`, reconcile.Request{}, apierror.InvalidJSON},
		{`null`, reconcile.Request{}, apierror.InvalidJSON},
		{`true`, reconcile.Request{}, apierror.InvalidJSON},
	} {
		got, err := reconcile.DecodeRequest([]byte(tc.body))
		var ae *apierror.Error
		switch {
		case tc.code == "" && (err != nil || got != tc.want):
			t.Errorf("%s: %+v, %v; want %+v", tc.body, got, err, tc.want)
		case tc.code != "" && (!errors.As(err, &ae) || ae.Code != tc.code):
			t.Errorf("%s: %v, want %s", tc.body, err, tc.code)
		}
	}
}
