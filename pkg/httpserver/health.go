package httpserver

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
)

// Check is one readiness condition; it returns nil when satisfied.
type Check func(ctx context.Context) error

// Health serves /healthz (the process is alive) and /readyz (it can do its
// job: bus connected, streams present, not shutting down). Readiness results
// are cached briefly so that probes cannot load the bus.
type Health struct {
	checks   map[string]Check
	draining atomic.Bool

	mu      sync.Mutex
	checked time.Time
	last    map[string]string
}

// NewHealth returns a Health with the named checks.
func NewHealth(checks map[string]Check) *Health {
	return &Health{checks: checks}
}

// SetDraining makes /readyz fail from now on (shutdown has begun).
func (h *Health) SetDraining() { h.draining.Store(true) }

// Mount adds /healthz and /readyz to r.
func (h *Health) Mount(r chi.Router) {
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		_ = WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	r.Get("/readyz", func(w http.ResponseWriter, r *http.Request) {
		failing := h.evaluate(r.Context())
		if len(failing) > 0 {
			_ = WriteJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "failing": failing})
			return
		}
		_ = WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}

// Ready reports whether every check passes.
func (h *Health) Ready(ctx context.Context) bool { return len(h.evaluate(ctx)) == 0 }

func (h *Health) evaluate(ctx context.Context) map[string]string {
	if h.draining.Load() {
		return map[string]string{"shutdown": "draining"}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if time.Since(h.checked) < time.Second && h.last != nil {
		return h.last
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	failing := map[string]string{}
	for name, check := range h.checks {
		if err := check(ctx); err != nil {
			failing[name] = err.Error()
		}
	}
	h.checked, h.last = time.Now(), failing
	return failing
}
