package httpserver

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/idsync/idsync/pkg/config"
)

// Config bounds an HTTP server; every idsync service reads it.
type Config struct {
	Addr              string          `env:"IDSYNC_HTTP_ADDR" default:"127.0.0.1:8080" help:"listen address (the all-in-one serves gateway and API on it)"`
	ReadHeaderTimeout time.Duration   `env:"IDSYNC_HTTP_READ_HEADER_TIMEOUT" default:"5s" help:"time allowed for request headers"`
	ReadTimeout       time.Duration   `env:"IDSYNC_HTTP_READ_TIMEOUT" default:"10s" help:"time allowed for a whole request, body included"`
	WriteTimeout      time.Duration   `env:"IDSYNC_HTTP_WRITE_TIMEOUT" default:"15s" help:"time allowed to write a response"`
	IdleTimeout       time.Duration   `env:"IDSYNC_HTTP_IDLE_TIMEOUT" default:"90s" help:"keep-alive idle time"`
	MaxHeaderBytes    config.ByteSize `env:"IDSYNC_HTTP_MAX_HEADER_BYTES" default:"64KiB" help:"largest request header block"`
	ShutdownDelay     time.Duration   `env:"IDSYNC_SHUTDOWN_DELAY" default:"0s" help:"after SIGTERM, keep serving this long with /readyz failing so load balancers move away"`
	ShutdownTimeout   time.Duration   `env:"IDSYNC_SHUTDOWN_TIMEOUT" default:"20s" help:"how long in-flight requests may take to finish on shutdown"`
}

// Validate checks the HTTP settings.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("IDSYNC_HTTP_ADDR: %q is not host:port", c.Addr))
	}
	for env, d := range map[string]time.Duration{
		"IDSYNC_HTTP_READ_HEADER_TIMEOUT": c.ReadHeaderTimeout, "IDSYNC_HTTP_READ_TIMEOUT": c.ReadTimeout,
		"IDSYNC_HTTP_WRITE_TIMEOUT": c.WriteTimeout, "IDSYNC_HTTP_IDLE_TIMEOUT": c.IdleTimeout,
		"IDSYNC_SHUTDOWN_TIMEOUT": c.ShutdownTimeout,
	} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s: %s, want more than 0", env, d))
		}
	}
	if c.ShutdownDelay < 0 {
		errs = append(errs, fmt.Errorf("IDSYNC_SHUTDOWN_DELAY: %s, want 0 or more", c.ShutdownDelay))
	}
	if c.MaxHeaderBytes < 4<<10 {
		errs = append(errs, fmt.Errorf("IDSYNC_HTTP_MAX_HEADER_BYTES: %s, want at least 4KiB", c.MaxHeaderBytes))
	}
	return errors.Join(errs...)
}

// Options converts the settings for Serve.
func (c Config) Options() Options {
	return Options{
		ReadHeaderTimeout: c.ReadHeaderTimeout, ReadTimeout: c.ReadTimeout, WriteTimeout: c.WriteTimeout,
		IdleTimeout: c.IdleTimeout, MaxHeaderBytes: int(c.MaxHeaderBytes),
		ShutdownDelay: c.ShutdownDelay, ShutdownTimeout: c.ShutdownTimeout,
	}
}
