package githubfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/idsync/idsync/pkg/fakehttp"
)

const docsURL = "https://docs.github.com/rest"

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status int, msg string) {
	fakehttp.WriteError(w, fakehttp.GitHub, status, msg)
}

func notFound(w http.ResponseWriter) { fail(w, http.StatusNotFound, "Not Found") }

// invalid answers 422 the way GitHub reports a validation failure.
func invalid(w http.ResponseWriter, resource, field, msg string) {
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{
		"message": "Validation Failed",
		"errors": []map[string]string{
			{"resource": resource, "field": field, "code": "invalid", "message": msg},
		},
		"documentation_url": docsURL,
	})
}

// decode reads a bounded JSON body; an empty body decodes to the zero value.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		fail(w, http.StatusBadRequest, "Problems reading the body")
		return false
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return true
	}
	if err := json.Unmarshal(b, v); err != nil {
		fail(w, http.StatusBadRequest, "Problems parsing JSON")
		return false
	}
	return true
}

// apiURL is the absolute URL of an API path on this server.
func (f *Fake) apiURL(r *http.Request, path string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return fmt.Sprintf("%s://%s%s%s", scheme, r.Host, f.base, path)
}

// paginate writes one page of items with GitHub's Link header
// (per_page default 30, at most 100).
func paginate[T any](w http.ResponseWriter, r *http.Request, items []T) {
	page, per := fakehttp.PageParams(r.URL.Query(), 30, 100)
	part, pages := fakehttp.Slice(items, page, per)
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if pages > 1 {
		w.Header().Set("Link", fakehttp.LinkHeader(r, scheme+"://"+r.Host, page, pages))
	}
	writeJSON(w, http.StatusOK, part)
}

func userJSON(login string, id int64) map[string]any {
	return map[string]any{"login": login, "id": id, "type": "User"}
}

func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func parseID(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}
