// Package metrics holds what every service shares about Prometheus: the
// naming scheme (idsync_<component>_<what>_<unit>), registration that
// tolerates several components in one process (the all-in-one), build info,
// and the /metrics handler.
package metrics

import (
	"errors"
	"net/http"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace is the first part of every metric name.
const Namespace = "idsync"

// Register registers c with reg and returns it; when an identical collector
// is already registered (another component of the same process made it), the
// existing one is returned so both share it.
func Register[T prometheus.Collector](reg prometheus.Registerer, c T) T {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(T); ok {
				return existing
			}
		}
		// A descriptor clash is a programming error caught by every test that
		// builds a component; failing loudly is the only honest option.
		panic(err)
	}
	return c
}

// NewRegistry returns a registry with the Go runtime, process and build-info
// collectors, as every service exposes them.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo(),
	)
	return reg
}

// Version is the idsync version, set at link time with
// -ldflags "-X github.com/idsync/idsync/pkg/metrics.Version=…".
var Version = "dev"

func buildInfo() prometheus.Collector {
	goVersion, revision := "unknown", "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
			}
		}
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace,
		Name:      "build_info",
		Help:      "Build information; the value is always 1.",
		ConstLabels: prometheus.Labels{
			"version": Version, "goversion": goVersion, "revision": revision,
		},
	})
	g.Set(1)
	return g
}

// Handler serves reg in the Prometheus text format.
func Handler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg, EnableOpenMetrics: false})
}
