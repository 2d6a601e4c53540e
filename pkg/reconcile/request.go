package reconcile

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/idsync/idsync/pkg/apierror"
	"github.com/idsync/idsync/pkg/schema"
)

// Request is the body of an on-demand reconciliation request on
// <ns>.reconcile.<provider>: {"apply": bool, "removeUnmanaged": bool}. An
// empty body is {} (a report, nothing applied).
type Request struct {
	Apply           bool `json:"apply"`
	RemoveUnmanaged bool `json:"removeUnmanaged"`
}

// DecodeRequest reads a request strictly: one JSON object (valid UTF-8, no
// duplicate or case-folded member names, no trailing data) with no member
// but apply and removeUnmanaged, each a boolean. A request that asks for
// more than idsync understands changes nothing rather than half of it.
// Errors are *apierror.Error: invalid_json or invalid_request.
func DecodeRequest(data []byte) (Request, error) {
	if strings.TrimSpace(string(data)) == "" {
		return Request{}, nil
	}
	obj, err := schema.Decode(data)
	if err != nil {
		return Request{}, err
	}
	var req Request
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		v, ok := obj[k].(bool)
		if !ok && (k == "apply" || k == "removeUnmanaged") {
			return Request{}, apierror.New(apierror.InvalidRequest, fmt.Sprintf("%q must be true or false", k))
		}
		switch k {
		case "apply":
			req.Apply = v
		case "removeUnmanaged":
			req.RemoveUnmanaged = v
		default:
			return Request{}, apierror.New(apierror.InvalidRequest, fmt.Sprintf("unknown member %q: a request takes only apply and removeUnmanaged", truncateName(k)))
		}
	}
	return req, nil
}

// truncateName keeps an unknown member name short in the error (it is
// echoed to the requester and logged).
func truncateName(s string) string {
	if len(s) <= 40 {
		return s
	}
	return strings.ToValidUTF8(s[:40], "") + "…"
}
