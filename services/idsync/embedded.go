package idsync

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// listenPlan decides where the embedded server listens. The default address
// taken (a NATS already runs on this machine) means in-process only, with a
// note saying so; an address the operator chose being taken is an error.
func listenPlan(addr string, explicit bool) (host string, port int, note string, err error) {
	if addr == "off" {
		return "", 0, "", nil
	}
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, "", fmt.Errorf("IDSYNC_NATS_LISTEN: %q is not host:port or off", addr)
	}
	port, err = strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, "", fmt.Errorf("IDSYNC_NATS_LISTEN: %q has no valid port", addr)
	}
	ln, lerr := net.Listen("tcp", addr)
	if lerr != nil {
		if explicit {
			return "", 0, "", fmt.Errorf("IDSYNC_NATS_LISTEN %s is not available: %w", addr, lerr)
		}
		return "", 0, fmt.Sprintf("%s is taken (is another NATS running?): the embedded NATS runs in-process only. "+
			"Set IDSYNC_NATS_LISTEN to a free address (or off), or IDSYNC_NATS_URL to use that server instead.", addr), nil
	}
	if port == 0 {
		port = ln.Addr().(*net.TCPAddr).Port
	}
	_ = ln.Close()
	return h, port, "", nil
}

// embeddedNATS is the in-process NATS JetStream server of the all-in-one.
type embeddedNATS struct {
	srv *server.Server
	// url is where other systems reach it; empty when in-process only.
	url string
}

func startEmbedded(dataDir, host string, port int, log *slog.Logger) (*embeddedNATS, error) {
	opts := &server.Options{
		ServerName: "idsync",
		JetStream:  true,
		StoreDir:   filepath.Join(dataDir, "jetstream"),
		NoSigs:     true,
		// Room for the largest webhook body (IDSYNC_MAX_BODY_BYTES) plus the
		// typed payload made from it; the server's default is 1 MiB.
		MaxPayload: 8 << 20,
	}
	if port == 0 {
		opts.DontListen = true
	} else {
		opts.Host, opts.Port = host, port
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS: %w", err)
	}
	srv.SetLoggerV2(&natsLogger{log: log.With("component", "nats-server")}, false, false, false)
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return nil, errors.New("embedded NATS did not start within 10s (see the nats-server log lines)")
	}
	e := &embeddedNATS{srv: srv}
	if !opts.DontListen {
		e.url = fmt.Sprintf("nats://%s", net.JoinHostPort(host, strconv.Itoa(port)))
	}
	return e, nil
}

func (e *embeddedNATS) shutdown() {
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
}

// natsLogger sends nats-server's log lines to slog.
type natsLogger struct{ log *slog.Logger }

func (l *natsLogger) Noticef(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l *natsLogger) Warnf(format string, v ...any)   { l.log.Warn(fmt.Sprintf(format, v...)) }
func (l *natsLogger) Fatalf(format string, v ...any)  { l.log.Error(fmt.Sprintf(format, v...)) }
func (l *natsLogger) Errorf(format string, v ...any)  { l.log.Error(fmt.Sprintf(format, v...)) }
func (l *natsLogger) Debugf(format string, v ...any)  { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l *natsLogger) Tracef(format string, v ...any)  {}
