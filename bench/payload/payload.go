// Package payload makes the request bodies of the benchmarks from the
// repository's public webhook samples (pkg/testdata): Okta event hook
// deliveries of one or twenty events, optionally padded to a target size,
// and every Console webhook type, each authenticated the way its source does
// (Okta: the hook secret verbatim in Authorization; Console: X-Mia-Signature
// over the body). Every body gets fresh event ids (Okta uuid, Console
// eventTimestamp), so JetStream's deduplication never short-circuits a
// publish.
package payload

import (
	"net/http"

	"github.com/idsync/idsync/pkg/consolehook"
)

// Secrets are what the gateway under test is configured with.
type Secrets struct{ Okta, Console string }

// Delivery is one kind of webhook delivery.
type Delivery struct {
	// Name identifies it in the report: okta-1, okta-20, console/<event>
	// (the size of a padded one is reported beside it).
	Name string
	// Path is the gateway endpoint it is sent to.
	Path string
	// Events is how many events one delivery carries.
	Events int
	tmpl   template
	okta   bool
	secret string
}

// Append appends a delivery to dst. id (letters, digits, '-') must be
// unique per delivery: it becomes the Okta delivery id and, suffixed -0,
// -1, …, its events' uuids. ts must be unique per delivery for Console
// deliveries (whose dedupe id hashes eventTimestamp, in Unix milliseconds).
func (d *Delivery) Append(dst []byte, id string, ts int64) []byte {
	return d.tmpl.fill(dst, id, ts)
}

// Header returns the headers the source would send with body.
func (d *Delivery) Header(body []byte) http.Header {
	h := http.Header{"Content-Type": {"application/json"}}
	if d.okta {
		h["Authorization"] = []string{d.secret}
	} else {
		h[consolehook.HeaderSignature] = []string{consolehook.Sign(body, d.secret)}
	}
	return h
}
