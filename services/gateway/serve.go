package gateway

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/idsync/idsync/pkg/apierror"
	"github.com/idsync/idsync/pkg/logging"
)

// handlerFunc handles a request and returns an error to be written as the
// structured error body; nil means it wrote its own success response.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// HeaderRequestID carries the request id, taken from the caller when sane.
const HeaderRequestID = "X-Request-Id"

// serve turns a handlerFunc into an http.Handler with a request id, panic
// recovery, the error body, metrics and one log line per request (debug for
// successes, info for refusals, error for failures of ours). method is the
// route's method: its successes count on a counter looked up once.
func (g *Gateway) serve(method, route string, h handlerFunc) http.Handler {
	spans := newSpanStart(method, route)
	// The series every accepted delivery updates, looked up on first use
	// (not at start, so /metrics shows no series before its first request).
	okRequests := sync.OnceValue(func() prometheus.Counter {
		return g.m.requests.WithLabelValues(route, method, strconv.Itoa(http.StatusOK))
	})
	duration := sync.OnceValue(func() prometheus.Observer { return g.m.duration.WithLabelValues(route) })
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		// A new trace per delivery (a sender's traceparent is not trusted);
		// the publish and everything downstream are its children.
		ctx, span := spans.start(r)
		defer span.End()
		id := requestID(r)
		w.Header().Set(HeaderRequestID, id)
		sw := &statusWriter{ResponseWriter: w}
		log := requestLogger(g.log, id, route)
		r = r.WithContext(logging.WithLogger(ctx, log))
		err := func() (err error) {
			defer func() {
				if p := recover(); p != nil {
					log.Error("handler panic", "panic", slog.AnyValue(p).String(), "stack", string(debug.Stack()))
					err = apierror.New(apierror.Internal, "internal error")
				}
			}()
			return h(sw, r)
		}()
		if err != nil {
			var ae *apierror.Error
			if !errors.As(err, &ae) {
				ae = apierror.Wrap(apierror.Internal, "internal error", err)
			}
			if ae.Code == apierror.BusUnavailable || ae.Code == apierror.BusTimeout || ae.Code == apierror.BusFull {
				ae.RetryAfter = g.cfg.RetryAfter
			}
			g.m.rejected.WithLabelValues(route, string(ae.Code)).Inc()
			level := slog.LevelInfo
			if ae.Code.Status() >= 500 {
				level = slog.LevelError
			}
			// The cause is ours (never the body); codes and routes only.
			attrs := []any{"code", string(ae.Code), "status", ae.Code.Status()}
			if ae.Err != nil {
				attrs = append(attrs, logging.Err(ae.Err))
			}
			log.Log(r.Context(), level, "request rejected", attrs...)
			apierror.Write(sw, ae, id)
		}
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		if err == nil {
			log.Debug("request handled", "status", status, "duration_ms", time.Since(start).Milliseconds())
		}
		endSpan(span, status, err)
		if status == http.StatusOK && r.Method == method {
			okRequests().Inc()
		} else {
			g.m.requests.WithLabelValues(route, r.Method, strconv.Itoa(status)).Inc()
		}
		duration().Observe(time.Since(start).Seconds())
	})
}

// statusWriter remembers the status written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func requestID(r *http.Request) string {
	if id := r.Header.Get(HeaderRequestID); id != "" && len(id) <= 64 && printable(id) {
		return id
	}
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func printable(s string) bool {
	for i := range len(s) {
		if c := s[i]; c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}

// NewRouter returns a chi router whose 404 and 405 answers use the error
// catalog (405 with the Allow header). Their request id is vetted like every
// other answer's: a caller's X-Request-Id is echoed only when sane.
func NewRouter(log *slog.Logger) *chi.Mux {
	r := chi.NewRouter()
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		id := requestID(r)
		w.Header().Set(HeaderRequestID, id)
		apierror.Write(w, apierror.New(apierror.NotFound, "no such endpoint"), id)
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, req *http.Request) {
		var allowed []string
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			if r.Match(chi.NewRouteContext(), m, req.URL.Path) {
				allowed = append(allowed, m)
			}
		}
		id := requestID(req)
		w.Header().Set(HeaderRequestID, id)
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		apierror.Write(w, apierror.New(apierror.MethodNotAllowed, req.Method+" is not allowed here"), id)
	})
	return r
}
