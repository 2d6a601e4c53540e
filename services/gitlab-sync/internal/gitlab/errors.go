package gitlab

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/idsync/idsync/pkg/errclass"
	"github.com/idsync/idsync/pkg/ratelimit"
)

// ErrDeactivateRefused is GitLab's 403 to a deactivation: users active in
// the last 90 days (and blocked users) cannot be deactivated. It is Permanent.
var ErrDeactivateRefused = errors.New("GitLab refuses to deactivate users active in the last 90 days")

// ErrMemberExists is GitLab's 409 to adding a direct member that already is one.
var ErrMemberExists = errors.New("member already exists")

// fallbackDelay is the wait after a 429 that names no delay.
const fallbackDelay = 30 * time.Second

// classify turns a client-go result into an error with an errclass class.
// Messages name the operation and the status, never the request URL (which
// can carry an email in its query).
func classify(op string, resp *gl.Response, err error) error {
	if err == nil {
		return nil
	}
	if d, ok := ratelimit.AsWait(err); ok {
		return errclass.AsRateLimited(d, fmt.Errorf("gitlab: %s: %w", op, err))
	}
	var hr *http.Response
	if resp != nil {
		hr = resp.Response
	}
	status := 0
	var er *gl.ErrorResponse
	switch {
	case hr != nil:
		status = hr.StatusCode
	case errors.As(err, &er):
		status = er.StatusCode
	}
	if status == 0 {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL may carry an email
		}
		return errclass.AsRetryable(fmt.Errorf("gitlab: %s: %w", op, err))
	}
	e := fmt.Errorf("gitlab: %s: %d %s", op, status, apiMessage(status, err))
	switch {
	case status == http.StatusNotFound:
		return errclass.AsNotFound(e)
	case status == http.StatusTooManyRequests:
		return errclass.AsRateLimited(ratelimit.RetryDelay(hr, ratelimit.GitLab, time.Now(), fallbackDelay), e)
	case status == http.StatusRequestTimeout || status >= 500:
		return errclass.AsRetryable(e)
	case status == http.StatusUnauthorized:
		return errclass.AsPermanent(fmt.Errorf("%w (check IDSYNC_GITLAB_TOKEN)", e))
	default:
		return errclass.AsPermanent(e)
	}
}

// apiMessage is GitLab's error message: the body's "message" (a string,
// or validation errors by field) or "error"; else the status text.
func apiMessage(status int, err error) string {
	var er *gl.ErrorResponse
	if errors.As(err, &er) && len(er.Body) > 0 {
		var body struct {
			Message json.RawMessage `json:"message"`
			Error   string          `json:"error"`
		}
		if json.Unmarshal(er.Body, &body) == nil {
			var s string
			switch {
			case json.Unmarshal(body.Message, &s) == nil && s != "":
				return s
			case len(body.Message) > 0 && string(body.Message) != "null":
				return string(body.Message)
			case body.Error != "":
				return body.Error
			}
		}
	}
	return http.StatusText(status)
}

// notFound reports whether err is classified NotFound.
func notFound(err error) bool { return errclass.Of(err) == errclass.NotFound }
